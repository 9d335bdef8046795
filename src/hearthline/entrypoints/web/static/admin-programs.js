// Client companies (tenants) and their programs, with each program's dispositions and default workflow.
import { ApiError, api, choice, clearErrors, crudPage, dispositionRows, el, flash, showError, text } from "/static/admin.js";

let tenants = [];
const tenantName = (id) => (tenants.find((t) => t.id === id) || {}).name || id;

// The client companies: a short list with a form to add one (a program needs one).
function tenantSection(page) {
  const list = el("ul", { class: "inline-list", id: "tenants" });
  const name = el("input", { name: "tenant_name", maxlength: "200", placeholder: "Client company name" });
  const form = el("form", { class: "inline-form", "data-form": "tenant", novalidate: "" },
    el("p", { class: "form-error", role: "alert" }),
    el("div", { class: "field", "data-field": "name" }, el("label", {}, el("span", {}, "New client company"), name)),
    el("button", { type: "submit", class: "primary" }, "Add client"));
  async function show() {
    tenants = await api("GET", "/tenants");
    list.replaceChildren(...(tenants.length ? tenants.map((t) => el("li", {}, t.name, " ",
      el("button", { type: "button", class: "small danger", "aria-label": `Delete client ${t.name}`, onclick: async () => {
        if (!confirm(`Delete client company “${t.name}”?`)) return;
        try { await api("DELETE", `/tenants/${t.id}`); flash(`Deleted ${t.name}.`); await show(); await page.reload(); } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          flash(err.message, true);
        }
      } }, "×"))) : [el("li", { class: "empty" }, "No client company yet.")]));
    await page.reloadTenants();
    await page.reload();
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const made = await api("POST", "/tenants", { name: name.value });
      flash(`Added ${made.name}.`);
      name.value = "";
      await show();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      showError(form, err);
    }
  });
  return { node: el("div", { class: "card tenants" }, el("h2", {}, "Client companies"), list, form), show };
}

const tenantChoice = choice("tenant_id", "Client company", () => tenants.map((t) => ({ value: t.id, label: t.name })));
const workflowChoice = choice("default_workflow_id", "Default workflow", async () => [], {
  nullable: true, blank: "None (contacts must name a queue or workflow)",
  help: "Where contacts go when they name neither a queue nor a workflow.",
});

tenants = await api("GET", "/tenants");
const hooks = { reload: async () => {}, reloadTenants: async () => { await tenantChoice.load(); } };
const tenantsBox = tenantSection(hooks);
document.getElementById("picker").replaceChildren(tenantsBox.node);

const page = await crudPage({
  noun: "program", key: (p) => p.id, describe: (p) => p.name,
  columns: [["Client", (p) => tenantName(p.tenant_id)], ["Program", (p) => p.name],
    ["Dispositions", (p) => p.dispositions.map((d) => d.label).join(", ") || "—"]],
  fields: () => [tenantChoice, text("name", "Name", { maxlength: 200 }), workflowChoice, dispositionRows()],
  lock: ["tenant_id"],
  list: () => api("GET", "/programs"),
  async create(v) {
    const made = await api("POST", "/programs", { tenant_id: v.tenant_id, name: v.name });
    if (!v.dispositions.length) return made;
    try {
      return await api("PATCH", `/programs/${made.id}`, { dispositions: v.dispositions });
    } catch (err) {
      err.created = made;
      throw err;
    }
  },
  update: (p, v) => api("PATCH", `/programs/${p.id}`, { name: v.name, dispositions: v.dispositions,
    default_workflow_id: v.default_workflow_id }),
  remove: (p) => api("DELETE", `/programs/${p.id}`),
  onEdit(program, fields) {
    // the default workflow is one of the program's own: known once it exists
    fields.default_workflow_id.control.disabled = !program;
    if (program) {
      api("GET", `/workflows?program_id=${program.id}`).then((list) => {
        fields.default_workflow_id.control.replaceChildren(el("option", { value: "" }, "None"),
          ...list.map((w) => el("option", { value: w.id }, w.name)));
        fields.default_workflow_id.set(program.default_workflow_id);
      });
    }
  },
});
hooks.reload = page.refresh;
await tenantsBox.show();
page.startNew();  // with the client companies loaded: the first is chosen
