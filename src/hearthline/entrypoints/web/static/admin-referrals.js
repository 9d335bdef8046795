// A program's referral directory: other resources agents refer customers to.
import { api, crudPage, text } from "/static/admin.js";

const body = (v) => ({ name: v.name, phone: v.phone, url: v.url, when_to_use: v.when_to_use });

await crudPage({
  noun: "referral", key: (r) => r.id, describe: (r) => r.name,
  columns: [["Name", (r) => r.name], ["Phone", (r) => r.phone || "—"], ["Web", (r) => r.url || "—"],
    ["When to use", (r) => r.when_to_use]],
  fields: () => [
    text("name", "Name", { maxlength: 200 }),
    text("phone", "Phone", { nullable: true, maxlength: 40, placeholder: "e.g. +1 800 555 0100" }),
    text("url", "Web address", { nullable: true, maxlength: 2000, placeholder: "e.g. https://help.example.org",
      help: "A phone number or a web address, or both; a transfer goes to the phone first." }),
    text("when_to_use", "When to use", { rows: 3, maxlength: 1000 }),
  ],
  list: (ctx) => api("GET", `/referrals?program_id=${ctx.program.id}`),
  create: (v, ctx) => api("POST", "/referrals", { program_id: ctx.program.id, ...body(v) }),
  update: (r, v) => api("PUT", `/referrals/${r.id}`, body(v)),
  remove: (r) => api("DELETE", `/referrals/${r.id}`),
});
