// The admin pages' shared parts: calling the API, showing its errors next to the fields they name,
// the program picker, small form widgets, and `crudPage` — a list beside a form — that most pages are.
import { el } from "/static/live.js";

export { el };

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.code = body.error || "";
    this.details = body.details || {};
  }
}

export async function api(method, path, body) {
  const r = await fetch(`/api/v1${path}`, {
    method, credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new ApiError(r.status, await r.json().catch(() => ({})));
  return r.status === 204 ? null : r.json();
}

// The API names a field two ways: pydantic's "body.steps.2.options.0.next" and the domain's
// "steps[2].options[0].next". Both become the latter, which is what data-field attributes say.
export function fieldPath(field) {
  let parts = String(field || "").split(".").filter((p) => p !== "");
  if (["body", "query", "path"].includes(parts[0])) parts = parts.slice(1);
  let out = "";
  for (const part of parts) out += /^\d+$/.test(part) ? `[${part}]` : (out ? "." : "") + part;
  return out;
}

function parentPath(path) {
  const m = path.match(/^(.*?)(\.[^.[\]]+|\[\d+\])$/);
  return m ? m[1] : "";
}

export function clearErrors(scope) {
  scope.querySelectorAll(".field-error").forEach((n) => n.remove());
  scope.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  scope.querySelectorAll(".form-error").forEach((n) => { n.textContent = ""; });
}

// Put each error of an API answer under the element whose data-field is the field it names (or the
// closest enclosing one); what names no field on the form goes to the form's .form-error line.
export function showError(scope, err, summary = "Not saved: see the marked field.") {
  clearErrors(scope);
  const details = err.details || {};
  const list = Array.isArray(details.errors) && details.errors.length
    ? details.errors.map((e) => ({ field: fieldPath(e.field), message: friendly(e.message) }))
    : [{ field: fieldPath(details.field), message: err.message }];
  let placed = 0;
  for (const item of list) {
    let path = item.field, target = null;
    while (path && !(target = scope.querySelector(`[data-field="${CSS.escape(path)}"]`))) path = parentPath(path);
    if (!target) continue;
    placed += 1;
    target.classList.add("invalid");
    const note = el("div", { class: "field-error", role: "alert", "data-error-for": item.field }, item.message);
    if (err.code === "invalid-expression" && typeof details.position === "number" && details.expression !== undefined) {
      // the expression with a caret under the place the parser stopped
      note.append(el("pre", { class: "caret" }, `${details.expression}\n${" ".repeat(details.position)}^`));
    }
    target.append(note);
  }
  const general = scope.querySelector(".form-error");
  if (general) general.textContent = placed ? summary : err.message;
}

// pydantic says which pattern a string missed; say what that pattern means instead
function friendly(message) {
  if (message.includes("[a-z0-9][a-z0-9_-]")) return "Use lower-case letters, digits, - or _ (at most 63 characters).";
  if (message.includes("\\S")) return "Must not be blank.";
  if (message.includes("[A-Za-z0-9_-]+")) return "Choose one from the list.";
  return message;
}

let flashTimer = null;
export function flash(text, isError = false) {
  const node = document.getElementById("flash");
  node.textContent = text;
  node.classList.toggle("error", isError);
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => { node.textContent = ""; }, 6000);
}

// ---- the program picker of per-program pages ----------------------------------------------------------
const REMEMBERED = "hearthline-admin-program";

export async function programPicker(host, onChange) {
  const [tenants, programs] = await Promise.all([api("GET", "/tenants"), api("GET", "/programs")]);
  const select = el("select", { id: "program", name: "program" });
  for (const t of tenants) {
    const mine = programs.filter((p) => p.tenant_id === t.id);
    if (mine.length) select.append(el("optgroup", { label: t.name }, ...mine.map((p) => el("option", { value: p.id }, p.name))));
  }
  const wanted = new URLSearchParams(location.search).get("program") || localStorage.getItem(REMEMBERED);
  select.value = programs.some((p) => p.id === wanted) ? wanted : (programs[0] || {}).id || "";
  const current = () => programs.find((p) => p.id === select.value) || null;
  const remember = () => {
    if (!select.value) return;
    localStorage.setItem(REMEMBERED, select.value);
    const url = new URL(location.href);
    url.searchParams.set("program", select.value);
    history.replaceState(null, "", url);
  };
  host.replaceChildren(el("label", { class: "picker" }, "Program ", select));
  if (!programs.length) {
    host.append(el("p", { class: "empty" }, "There is no program yet: ", el("a", { href: "/admin/programs" }, "create one"), " first."));
  }
  remember();
  select.addEventListener("change", () => { remember(); onChange(current()); });
  return { current, tenants, programs, select };
}

export function isPerProgram() {
  return document.querySelector(".admin").hasAttribute("data-per-program");
}

// ---- widgets: {name, node, get(), set(value), load?(ctx)} --------------------------------------------
export function field(name, label, control, help) {
  return el("div", { class: "field", "data-field": name },
    el("label", {}, el("span", {}, label), control), ...(help ? [el("small", { class: "help" }, help)] : []));
}

function input(type, attrs = {}) {
  const node = el(type === "textarea" ? "textarea" : "input", attrs);
  if (type !== "textarea") node.type = type;
  return node;
}

// Text; `nullable`: a blank value is null (and null shows blank).
export function text(name, label, { help, nullable = false, maxlength, placeholder, rows, initial = "" } = {}) {
  const attrs = { name };
  if (maxlength) attrs.maxlength = String(maxlength);
  if (placeholder) attrs.placeholder = placeholder;
  if (rows) attrs.rows = String(rows);
  const control = input(rows ? "textarea" : "text", attrs);
  return {
    name, node: field(name, label, control, help), control, initial,
    get: () => (nullable && control.value.trim() === "" ? null : control.value),
    set: (v) => { control.value = v ?? ""; },
  };
}

export function number(name, label, { help, nullable = false, min, max, step = "1", initial = "" } = {}) {
  const attrs = { name, step };
  if (min !== undefined) attrs.min = String(min);
  if (max !== undefined) attrs.max = String(max);
  const control = input("number", attrs);
  return {
    name, node: field(name, label, control, help), control, initial,
    get: () => (control.value === "" ? (nullable ? null : 0) : Number(control.value)),
    set: (v) => { control.value = v ?? ""; },
  };
}

export function checkbox(name, label, { help, initial = false } = {}) {
  const control = input("checkbox", { name });
  const node = el("div", { class: "field check", "data-field": name }, el("label", {}, control, el("span", {}, label)),
    ...(help ? [el("small", { class: "help" }, help)] : []));
  return { name, node, control, initial, get: () => control.checked, set: (v) => { control.checked = Boolean(v); } };
}

// A select; `options(ctx)` gives [{value, label}] (may be async) and is asked again on `load`.
export function choice(name, label, options, { help, nullable = false, blank = "—", initial } = {}) {
  const control = el("select", { name });
  let wanted = initial;
  const pick = () => {  // the wanted value if it is offered, else the first choice
    control.value = wanted ?? "";
    if (control.selectedIndex < 0 && control.options.length) control.selectedIndex = 0;
  };
  const widget = {
    name, node: field(name, label, control, help), control, initial,
    get: () => (control.value === "" && nullable ? null : control.value),
    set: (v) => { wanted = v; pick(); },
    async load(ctx) {
      const list = await options(ctx);
      control.replaceChildren(...(nullable ? [el("option", { value: "" }, blank)] : []),
        ...list.map((o) => el("option", { value: o.value }, o.label)));
      pick();
    },
  };
  return widget;
}

// A comma-separated list of words (languages, tags).
export function words(name, label, { help, placeholder } = {}) {
  const control = input("text", { name, placeholder: placeholder || "comma, separated" });
  return {
    name, node: field(name, label, control, help), control, initial: [],
    get: () => control.value.split(",").map((w) => w.trim()).filter((w) => w !== ""),
    set: (v) => { control.value = (v || []).join(", "); },
  };
}

// Rows of a few inputs with "Add" and "Remove": dispositions, required or held skills.
// `columns`: [{key, label, make(row index) → control, read(control), write(control, value)}].
export function rows(name, label, { noun, columns, empty = {}, help, fieldOf = (i, key) => `${name}[${i}].${key}` }) {
  let model = [];
  const body = el("div", { class: "rows" });
  const add = el("button", { type: "button", class: "small", onclick: () => { model.push({ ...empty }); render(); focusLast(); } },
    `Add ${noun}`);
  const node = el("div", { class: "field", "data-field": name }, el("span", { class: "label" }, label), body, add,
    ...(help ? [el("small", { class: "help" }, help)] : []));
  function focusLast() {
    const last = body.lastElementChild;
    if (last) { const first = last.querySelector("input, select"); if (first) first.focus(); }
  }
  function render() {
    body.replaceChildren(...model.map((row, i) => el("div", { class: "row" },
      ...columns.map((c) => {
        const control = c.make(i);
        control.setAttribute("aria-label", `${noun} ${i + 1} ${c.label}`);
        c.write(control, row[c.key]);
        row[c.key] = c.read(control);  // a select shows its first choice for an empty value: so be it
        control.addEventListener("input", () => { row[c.key] = c.read(control); });
        control.addEventListener("change", () => { row[c.key] = c.read(control); });
        return el("span", { class: "cell", "data-field": fieldOf(i, c.key, row) }, control);
      }),
      el("button", { type: "button", class: "small danger", "aria-label": `Remove ${noun} ${i + 1}`,
        onclick: () => { model.splice(i, 1); render(); } }, "Remove"))));
    if (!model.length) body.append(el("p", { class: "empty" }, "None."));
    node.dispatchEvent(new Event("rows-changed", { bubbles: true }));
  }
  render();
  return {
    name, node, initial: [], rerender: render,
    get: () => model.map((row) => ({ ...row })),
    set: (v) => { model = (v || []).map((row) => ({ ...row })); render(); },
  };
}

export function textCell(attrs = {}) {
  return { make: () => input("text", attrs), read: (c) => c.value, write: (c, v) => { c.value = v ?? ""; } };
}

export function selectCell(options) {
  return {
    make: () => el("select", {}, ...options().map((o) => el("option", { value: o.value }, o.label))),
    read: (c) => (/^\d+$/.test(c.value) ? Number(c.value) : c.value),
    write: (c, v) => { c.value = v === undefined || v === null ? c.options[0]?.value ?? "" : String(v); },
  };
}

// skill → level 1..5, as a list of rows; `skills()` gives the operator's skill names.
export function skillLevels(name, label, skills, { help, noun = "skill" } = {}) {
  const levels = () => [1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: `level ${n}` }));
  const widget = rows(name, label, {
    noun, help, empty: { skill: "", level: 3 },
    fieldOf: (i, key, row) => (row.skill ? `${name}.${row.skill}` : `${name}[${i}]`),
    columns: [
      { key: "skill", label: "name", ...selectCell(() => skills().map((s) => ({ value: s, label: s }))) },
      { key: "level", label: "level", ...selectCell(levels) },
    ],
  });
  const getRows = widget.get, setRows = widget.set;
  widget.get = () => Object.fromEntries(getRows().filter((r) => r.skill).map((r) => [r.skill, Number(r.level)]));
  widget.set = (v) => setRows(Object.entries(v || {}).map(([skill, level]) => ({ skill, level })));
  widget.initial = {};
  return widget;
}

// A program's dispositions: code and label per row.
export function dispositionRows() {
  return rows("dispositions", "Dispositions", {
    noun: "disposition", empty: { code: "", label: "" },
    help: "What the agent chooses at wrap-up. Codes are lower-case slugs (resolved, call-back). None: not asked.",
    columns: [
      { key: "code", label: "code", ...textCell({ placeholder: "code", maxlength: "63" }) },
      { key: "label", label: "label", ...textCell({ placeholder: "Label", maxlength: "100" }) },
    ],
  });
}

// ---- a list of objects beside the form that creates and edits them --------------------------------------
// o: { noun, key(item), describe(item), columns: [[label, item → text|Node]], fields(ctx) → widgets,
//      list(ctx), create(values, ctx), update(item, values, ctx), remove?(item, ctx), lock?: [names fixed once
//      created], onEdit?(item, widgets, ctx), onInput?(values, form, ctx), after?(ctx) → Node, note?: text,
//      wide?: the form goes under the list at full width (long editors) }
export async function crudPage(o) {
  const content = document.getElementById("content");
  const ctx = { program: null, reload: null };
  const perProgram = isPerProgram();
  let picker = null;
  if (perProgram) {
    picker = await programPicker(document.getElementById("picker"), async (program) => {
      ctx.program = program;
      await loadWidgets();
      startNew();
      await refresh();
    });
    ctx.program = picker.current();
  }
  const widgets = o.fields(ctx);
  const byName = Object.fromEntries(widgets.map((w) => [w.name, w]));
  const heading = el("h2", {});
  const save = el("button", { type: "submit", class: "primary" }, "Save");
  const reset = el("button", { type: "button", onclick: () => startNew() }, "New");
  const form = el("form", { class: "editor card", "data-form": o.noun, novalidate: "" },
    heading, el("p", { class: "form-error", role: "alert" }), ...widgets.map((w) => w.node),
    el("div", { class: "actions" }, save, reset));
  const tbody = el("tbody", {});
  const table = el("table", { class: "list", "data-list": o.noun },
    el("thead", {}, el("tr", {}, ...o.columns.map(([label]) => el("th", {}, label)), el("th", {}, ""))), tbody);
  const listPane = el("div", { class: "list-pane" }, table, ...(o.note ? [el("p", { class: "hint" }, o.note)] : []));
  content.replaceChildren(el("div", { class: o.wide ? "admin-grid wide" : "admin-grid" }, listPane, form), ...(o.after ? [o.after(ctx)] : []));
  let editing = null;

  async function loadWidgets() {
    await Promise.all(widgets.filter((w) => w.load).map((w) => w.load(ctx)));
  }
  function lock(on) {
    for (const name of o.lock || []) {
      const w = byName[name];
      if (w && w.control) w.control.disabled = on;
    }
  }
  function startNew() {
    editing = null;
    heading.textContent = `New ${o.noun}`;
    clearErrors(form);
    for (const w of widgets) w.set(structuredClone(w.initial));
    lock(false);
    if (o.onEdit) o.onEdit(null, byName, ctx);
  }
  function edit(item) {
    editing = item;
    heading.textContent = `Edit ${o.noun}: ${o.describe(item)}`;
    clearErrors(form);
    for (const w of widgets) w.set(structuredClone(item[w.name] ?? w.initial));
    lock(true);
    if (o.onEdit) o.onEdit(item, byName, ctx);
    form.scrollIntoView({ block: "nearest" });
  }
  const values = () => Object.fromEntries(widgets.map((w) => [w.name, w.get()]));

  async function refresh() {
    if (perProgram && !ctx.program) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: String(o.columns.length + 1), class: "empty" }, "Choose a program.")));
      return;
    }
    const items = await o.list(ctx);
    tbody.replaceChildren(...(items.length ? items.map((item) => el("tr", { "data-id": o.key(item) },
      ...o.columns.map(([, value]) => el("td", {}, value(item) ?? "")),
      el("td", { class: "row-actions" },
        el("button", { type: "button", class: "small", onclick: () => edit(item) }, "Edit"),
        ...(o.remove ? [el("button", { type: "button", class: "small danger", onclick: () => removeItem(item) }, "Delete")] : []))))
      : [el("tr", {}, el("td", { colspan: String(o.columns.length + 1), class: "empty" }, `No ${o.noun} yet.`))]));
  }
  ctx.reload = refresh;

  async function removeItem(item) {
    if (!confirm(`Delete ${o.noun} “${o.describe(item)}”?`)) return;
    try {
      await o.remove(item, ctx);
      flash(`Deleted ${o.describe(item)}.`);
      if (editing && o.key(editing) === o.key(item)) startNew();
      await refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      flash(err.message, true);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (perProgram && !ctx.program) { flash("Choose a program first.", true); return; }
    save.disabled = true;
    try {
      const saved = editing ? await o.update(editing, values(), ctx) : await o.create(values(), ctx);
      flash(`Saved ${o.describe(saved)}.`);
      startNew();
      await refresh();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.created) {  // made, but a second step failed: saving again must change it, not make another
        editing = err.created;
        heading.textContent = `Edit ${o.noun}: ${o.describe(err.created)}`;
        lock(true);
        refresh();
      }
      showError(form, err);
    } finally {
      save.disabled = false;
    }
  });
  if (o.onInput) {
    const changed = () => o.onInput(values(), form, ctx, editing);
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    form.addEventListener("rows-changed", changed);
  }
  await loadWidgets();
  startNew();
  await refresh();
  return { ctx, form, refresh, edit, startNew };
}
