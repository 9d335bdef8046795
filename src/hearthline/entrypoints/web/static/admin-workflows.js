// A program's workflows: routes (a filter and ordered targets) and a default target. Every expression is
// checked as it is typed, by a dry run of the server's own check (POST /workflows/validate); the error
// appears under the field with a caret at its position.
import { ApiError, api, checkbox, clearErrors, crudPage, el, showError, text } from "/static/admin.js";

let queues = [];
const blankTarget = () => ({ queue_id: (queues[0] || {}).id || "", agent_expression: null, priority: null,
  timeout_seconds: null, skip_if: null });

// The inputs of one target, bound to `target`; `at` is its field path, `label` prefixes the labels.
function targetFields(target, at, label) {
  const queue = el("select", { "aria-label": `${label} queue` },
    ...queues.map((q) => el("option", { value: q.id }, q.name)));
  if (target.queue_id && !queues.some((q) => q.id === target.queue_id)) {
    queue.append(el("option", { value: target.queue_id }, `(unknown queue ${target.queue_id})`));
  }
  queue.value = target.queue_id;
  target.queue_id = queue.value;
  queue.addEventListener("change", () => { target.queue_id = queue.value; });
  const expression = (key, name, placeholder) => {
    const control = el("input", { "aria-label": `${label} ${name}`, placeholder, maxlength: "4000", spellcheck: "false",
      class: "code" });
    control.value = target[key] ?? "";
    control.addEventListener("input", () => { target[key] = control.value.trim() === "" ? null : control.value; });
    return el("label", { class: "cell grow", "data-field": `${at}.${key}` }, `${name} `, control);
  };
  const count = (key, name, attrs) => {
    const control = el("input", { type: "number", "aria-label": `${label} ${name}`, step: "1", ...attrs });
    control.value = target[key] ?? "";
    control.addEventListener("input", () => { target[key] = control.value === "" ? null : Number(control.value); });
    return el("label", { class: "cell", "data-field": `${at}.${key}` }, `${name} `, control);
  };
  return el("div", { class: "target", "data-field": at },
    el("div", { class: "row" },
      el("label", { class: "cell", "data-field": `${at}.queue_id` }, "queue ", queue),
      count("priority", "priority", { min: "-1000", max: "1000", placeholder: "keep" }),
      count("timeout_seconds", "overflow after (s)", { min: "1", max: "86400", placeholder: "never" })),
    el("div", { class: "row" }, expression("agent_expression", "agent expression", "agent.skills.billing >= 3"),
      expression("skip_if", "skip if", "queue.waiting > 20")));
}

function routesEditor() {
  let model = [];
  const body = el("div", { class: "routes" });
  const changed = () => node.dispatchEvent(new Event("rows-changed", { bubbles: true }));
  const node = el("div", { class: "field", "data-field": "routes" }, el("span", { class: "label" }, "Routes"),
    el("small", { class: "help" }, "The first route whose filter holds takes the contact; else the default target."),
    body,
    el("button", { type: "button", class: "small", onclick: () => {
      model.push({ name: `route-${model.length + 1}`, filter: "", targets: [blankTarget()] });
      render(); changed();
    } }, "Add route"));

  function render() {
    body.replaceChildren(...model.map((route, i) => {
      const at = `routes[${i}]`, n = i + 1;
      const name = el("input", { "aria-label": `Route ${n} name`, maxlength: "100" });
      name.value = route.name;
      name.addEventListener("input", () => { route.name = name.value; });
      const filter = el("input", { "aria-label": `Route ${n} filter`, maxlength: "4000", spellcheck: "false", class: "code",
        placeholder: 'language == "es" AND tier IN ["gold", "platinum"]' });
      filter.value = route.filter;
      filter.addEventListener("input", () => { route.filter = filter.value; });
      return el("fieldset", { class: "route", "data-field": at }, el("legend", {}, `Route ${n}`),
        el("div", { class: "row" },
          el("label", { class: "cell", "data-field": `${at}.name` }, "name ", name),
          el("label", { class: "cell grow", "data-field": `${at}.filter` }, "filter ", filter)),
        el("div", { "data-field": `${at}.targets` }, ...route.targets.map((target, j) => el("div", { class: "target-box" },
          el("strong", {}, `Target ${j + 1}`),
          targetFields(target, `${at}.targets[${j}]`, `Route ${n} target ${j + 1}`),
          el("button", { type: "button", class: "small danger", onclick: () => { route.targets.splice(j, 1); render(); changed(); } },
            `Remove target ${j + 1} of route ${n}`)))),
        el("div", { class: "actions" },
          el("button", { type: "button", class: "small", onclick: () => { route.targets.push(blankTarget()); render(); changed(); } },
            `Add target to route ${n}`),
          el("button", { type: "button", class: "small danger", onclick: () => { model.splice(i, 1); render(); changed(); } },
            `Remove route ${n}`)));
    }));
  }

  return {
    name: "routes", node, initial: [], rerender: render,
    get: () => structuredClone(model),
    set: (routes) => { model = structuredClone(routes || []); render(); },
  };
}

function defaultTarget() {
  let target = blankTarget();
  const box = el("div", {});
  const node = el("div", { class: "field", "data-field": "default_target" }, el("span", { class: "label" }, "Default target"), box);
  const render = () => box.replaceChildren(targetFields(target, "default_target", "Default"));
  return {
    name: "default_target", node, initial: null, rerender: render,
    get: () => structuredClone(target),
    set: (v) => { target = v ? structuredClone(v) : blankTarget(); render(); },
  };
}

const draft = (v) => ({ name: v.name, routes: v.routes, default_target: v.default_target });
let program = null;  // the chosen program, read again with the list (its default workflow changes)
let checks = 0, timer = null;
const status = el("span", { class: "check-status", id: "check-status" });

async function makeDefault(workflow, v) {
  if (v.make_default && program.default_workflow_id !== workflow.id) {
    await api("PATCH", `/programs/${program.id}`, { default_workflow_id: workflow.id });
  } else if (!v.make_default && program.default_workflow_id === workflow.id) {
    await api("PATCH", `/programs/${program.id}`, { default_workflow_id: null });
  }
  return workflow;
}

const page = await crudPage({
  wide: true, noun: "workflow", key: (w) => w.id, describe: (w) => w.name,
  columns: [["Workflow", (w) => w.name + (program && program.default_workflow_id === w.id ? " (default)" : "")],
    ["Routes", (w) => w.routes.map((r) => r.name).join(", ") || "—"],
    ["Default queue", (w) => (queues.find((q) => q.id === (w.default_target || {}).queue_id) || {}).name || "—"]],
  fields: (ctx) => {
    const widgets = [text("name", "Name", { maxlength: 200 }), routesEditor(), defaultTarget(),
      checkbox("make_default", "The program's default workflow",
        { help: "Contacts that name neither a queue nor a workflow go through it." })];
    widgets[0].load = async () => {  // the program's queues, before the editors draw their selects
      queues = ctx.program ? await api("GET", `/queues?program_id=${ctx.program.id}`) : [];
    };
    return widgets;
  },
  async list(ctx) {
    program = await api("GET", `/programs/${ctx.program.id}`);
    return api("GET", `/workflows?program_id=${ctx.program.id}`);
  },
  create: async (v, ctx) => makeDefault(await api("POST", "/workflows", { program_id: ctx.program.id, ...draft(v) }), v),
  update: async (w, v) => makeDefault(await api("PUT", `/workflows/${w.id}`, draft(v)), v),
  remove: (w) => api("DELETE", `/workflows/${w.id}`),
  onEdit(workflow, fields) {
    fields.make_default.set(Boolean(workflow && program && program.default_workflow_id === workflow.id));
    status.textContent = "";
    if (!queues.length) status.textContent = "This program has no queue yet: create one first.";
  },
  // Live check: a dry run of what saving would answer, shortly after the typing stops.
  onInput(v, form, ctx) {
    clearTimeout(timer);
    if (!ctx.program) return;
    timer = setTimeout(async () => {
      const mine = ++checks;
      const body = { program_id: ctx.program.id, routes: v.routes, default_target: v.default_target };
      if (v.name.trim()) body.name = v.name;
      try {
        await api("POST", "/workflows/validate", body);
        if (mine !== checks) return;
        clearErrors(form);
        status.textContent = "✓ valid";
        status.className = "check-status ok";
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (mine !== checks) return;
        showError(form, err, "");
        status.textContent = "✗ not valid yet";
        status.className = "check-status bad";
      }
    }, 300);
  },
});
page.form.querySelector(".actions").prepend(status);
