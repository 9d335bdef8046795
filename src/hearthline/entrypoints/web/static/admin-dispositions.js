// One program's dispositions: the list an agent chooses from at wrap-up, saved as a whole.
import { ApiError, api, clearErrors, dispositionRows, el, flash, programPicker, showError } from "/static/admin.js";

const content = document.getElementById("content");
const editor = dispositionRows();
const save = el("button", { type: "submit", class: "primary" }, "Save dispositions");
const heading = el("h2", {});
const form = el("form", { class: "editor card", "data-form": "dispositions", novalidate: "" },
  heading, el("p", { class: "form-error", role: "alert" }), editor.node, el("div", { class: "actions" }, save));
let program = null;

function show(p) {
  program = p;
  clearErrors(form);
  if (!p) { content.replaceChildren(el("p", { class: "empty" }, "Choose a program.")); return; }
  heading.textContent = `Dispositions of ${p.name}`;
  editor.set(p.dispositions);
  content.replaceChildren(form);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  save.disabled = true;
  try {
    program = await api("PATCH", `/programs/${program.id}`, { dispositions: editor.get() });
    flash(`Saved the dispositions of ${program.name}.`);
    show(program);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showError(form, err);
  } finally {
    save.disabled = false;
  }
});

// the picker's list is from the page load; read the program again when it is chosen
const picker = await programPicker(document.getElementById("picker"), async (p) => show(p && await api("GET", `/programs/${p.id}`)));
show(picker.current());
