// A program's canned responses: prepared answers an agent inserts into a chat or an e-mail.
import { api, crudPage, text } from "/static/admin.js";

const body = (v) => ({ name: v.name, body: v.body });
const preview = (c) => (c.body.length > 90 ? `${c.body.slice(0, 89)}…` : c.body);

await crudPage({
  noun: "canned response", key: (c) => c.id, describe: (c) => c.name,
  columns: [["Name", (c) => c.name], ["Text", preview]],
  fields: () => [
    text("name", "Name", { maxlength: 200 }),
    text("body", "Text", { rows: 6, maxlength: 10000,
      help: "Fields are filled in for the contact: {customer.first_name}, {customer.name}, {agent.first_name}, "
        + "{program.name}, {interaction.reference}, {attributes.<key>}. Write {{ and }} for braces." }),
  ],
  list: (ctx) => api("GET", `/canned-responses?program_id=${ctx.program.id}`),
  create: (v, ctx) => api("POST", "/canned-responses", { program_id: ctx.program.id, ...body(v) }),
  update: (c, v) => api("PUT", `/canned-responses/${c.id}`, body(v)),
  remove: (c) => api("DELETE", `/canned-responses/${c.id}`),
});
