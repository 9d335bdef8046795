// A program's scripts: steps with options that lead to another step or end the script. The first
// step is the start. Options point at steps by an internal key, so renaming a step keeps its links.
import { api, choice, crudPage, el, text } from "/static/admin.js";

let queues = [];
let keys = 0;
const newKey = () => `k${++keys}`;

function stepsEditor() {
  let model = [];  // [{key, id, title, text, options: [{label, next: key | null}]}]
  const body = el("div", { class: "steps" });
  const nextSelects = [];
  const node = el("div", { class: "field", "data-field": "steps" }, el("span", { class: "label" }, "Steps"), body,
    el("button", { type: "button", class: "small", onclick: () => { model.push(blankStep()); render(); } }, "Add step"),
    el("small", { class: "help" }, "Texts may use {customer.first_name}, {customer.name}, {agent.first_name}, "
      + "{program.name}, {interaction.reference}, {attributes.<key>}; {{ and }} are literal braces."));

  function blankStep() {
    const n = model.length + 1;
    return { key: newKey(), id: `step-${n}`, title: `Step ${n}`, text: "", options: [] };
  }
  const stepName = (s, i) => `${i + 1}. ${s.id || "(no id)"} — ${s.title}`;
  function fillNext(select, option) {
    select.replaceChildren(el("option", { value: "" }, "(end of script)"),
      ...model.map((s, i) => el("option", { value: s.key }, stepName(s, i))));
    select.value = option.next || "";
  }
  const refreshNext = () => nextSelects.forEach(([select, option]) => fillNext(select, option));

  function input(value, attrs, onInput, multiline = false) {
    const control = el(multiline ? "textarea" : "input", attrs);
    control.value = value;
    control.addEventListener("input", () => onInput(control.value));
    return control;
  }

  function render() {
    nextSelects.length = 0;
    body.replaceChildren(...model.map((step, i) => {
      const at = `steps[${i}]`, n = i + 1;
      const options = step.options.map((option, j) => {
        const next = el("select", { "aria-label": `Step ${n} option ${j + 1} next` });
        nextSelects.push([next, option]);
        fillNext(next, option);
        next.addEventListener("change", () => { option.next = next.value || null; });
        return el("div", { class: "row option" },
          el("span", { class: "cell grow", "data-field": `${at}.options[${j}].label` },
            input(option.label, { "aria-label": `Step ${n} option ${j + 1} label`, maxlength: "200", placeholder: "What the customer says" },
              (v) => { option.label = v; })),
          el("span", { class: "cell", "data-field": `${at}.options[${j}].next` }, "→ ", next),
          el("button", { type: "button", class: "small danger", "aria-label": `Remove option ${j + 1} of step ${n}`,
            onclick: () => { step.options.splice(j, 1); render(); } }, "Remove"));
      });
      return el("fieldset", { class: "step", "data-field": at, "data-step": step.id },
        el("legend", {}, i === 0 ? `Step ${n} (start)` : `Step ${n}`),
        el("div", { class: "row" },
          el("label", { class: "cell", "data-field": `${at}.id` }, "Id ",
            input(step.id, { "aria-label": `Step ${n} id`, maxlength: "63", size: "14" }, (v) => { step.id = v; refreshNext(); })),
          el("label", { class: "cell grow", "data-field": `${at}.title` }, "Title ",
            input(step.title, { "aria-label": `Step ${n} title`, maxlength: "200" }, (v) => { step.title = v; refreshNext(); }))),
        el("div", { class: "cell", "data-field": `${at}.text` },
          input(step.text, { "aria-label": `Step ${n} text`, rows: "3", maxlength: "5000", placeholder: "What the agent says or does" },
            (v) => { step.text = v; }, true)),
        el("div", { class: "options", "data-field": `${at}.options` }, ...options),
        el("div", { class: "actions" },
          el("button", { type: "button", class: "small", onclick: () => { step.options.push({ label: "", next: null }); render(); } },
            `Add option to step ${n}`),
          moveUp(i),
          el("button", { type: "button", class: "small danger", onclick: () => {
            model.splice(i, 1);
            for (const s of model) for (const o of s.options) if (o.next === step.key) o.next = null;
            render();
          } }, `Remove step ${n}`)));
    }));
  }

  function moveUp(i) {
    const button = el("button", { type: "button", class: "small", "aria-label": `Move step ${i + 1} up`,
      onclick: () => { [model[i - 1], model[i]] = [model[i], model[i - 1]]; render(); } }, "Move up");
    button.disabled = i === 0;
    return button;
  }

  return {
    name: "steps", node,
    initial: [{ id: "start", title: "Greeting", text: "Hello {customer.first_name}, thank you for calling {program.name}.", options: [] }],
    get: () => {
      const idOf = Object.fromEntries(model.map((s) => [s.key, s.id]));
      return model.map((s) => ({ id: s.id, title: s.title, text: s.text,
        options: s.options.map((o) => ({ label: o.label, next: o.next ? idOf[o.next] : null })) }));
    },
    set: (steps) => {
      const withKeys = (steps || []).map((s) => ({ ...s, key: newKey() }));
      const keyOf = Object.fromEntries(withKeys.map((s) => [s.id, s.key]));
      model = withKeys.map((s) => ({ key: s.key, id: s.id, title: s.title, text: s.text,
        options: (s.options || []).map((o) => ({ label: o.label, next: o.next ? keyOf[o.next] || null : null })) }));
      render();
    },
  };
}

const body = (v) => ({ name: v.name, queue_id: v.queue_id, steps: v.steps });
const queueName = (id) => (id ? (queues.find((q) => q.id === id) || {}).name || id : "whole program");

await crudPage({
  wide: true, noun: "script", key: (s) => s.id, describe: (s) => s.name,
  columns: [["Script", (s) => s.name], ["Applies to", (s) => queueName(s.queue_id)], ["Steps", (s) => s.steps.length]],
  fields: () => [
    text("name", "Name", { maxlength: 200 }),
    choice("queue_id", "Applies to", async (ctx) => {
      queues = ctx.program ? await api("GET", `/queues?program_id=${ctx.program.id}`) : [];
      return queues.map((q) => ({ value: q.id, label: `queue ${q.name}` }));
    }, { nullable: true, blank: "the whole program", initial: null,
      help: "A queue's own script wins over the program's; one script each." }),
    stepsEditor(),
  ],
  list: (ctx) => api("GET", `/scripts?program_id=${ctx.program.id}`),
  create: (v, ctx) => api("POST", "/scripts", { program_id: ctx.program.id, ...body(v) }),
  update: (s, v) => api("PUT", `/scripts/${s.id}`, body(v)),
  remove: (s) => api("DELETE", `/scripts/${s.id}`),
});
