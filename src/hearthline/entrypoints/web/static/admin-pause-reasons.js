// Why an agent is paused, and whether that time is paid.
import { api, checkbox, crudPage, text } from "/static/admin.js";

await crudPage({
  noun: "pause reason", key: (r) => r.code, describe: (r) => r.label,
  columns: [["Code", (r) => r.code], ["Label", (r) => r.label], ["Paid", (r) => (r.paid ? "paid" : "unpaid")]],
  fields: () => [
    text("code", "Code", { maxlength: 63, placeholder: "e.g. training", help: "Lower-case letters, digits, - and _." }),
    text("label", "Label", { maxlength: 100 }),
    checkbox("paid", "Paid time"),
  ],
  lock: ["code"],
  note: "“missed” is where routing puts an agent who let an offer time out; it cannot be deleted.",
  list: () => api("GET", "/pause-reasons"),
  create: (v) => api("PUT", `/pause-reasons/${encodeURIComponent(v.code)}`, { label: v.label, paid: v.paid }),
  update: (r, v) => api("PUT", `/pause-reasons/${encodeURIComponent(r.code)}`, { label: v.label, paid: v.paid }),
  remove: (r) => api("DELETE", `/pause-reasons/${encodeURIComponent(r.code)}`),
});
