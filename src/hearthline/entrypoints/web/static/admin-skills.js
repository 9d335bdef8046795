// The operator's skills: what queues require and agents hold.
import { api, crudPage, text } from "/static/admin.js";

await crudPage({
  noun: "skill", key: (s) => s.name, describe: (s) => s.name,
  columns: [["Skill", (s) => s.name], ["Description", (s) => s.description || "—"],
    ["Needs certification", (s) => s.requires_certification || "—"]],
  fields: () => [
    text("name", "Name", { maxlength: 63, placeholder: "e.g. billing", help: "Lower-case letters, digits, - and _." }),
    text("description", "Description", { maxlength: 500 }),
    text("requires_certification", "Requires certification", { nullable: true, maxlength: 100,
      help: "The skill counts only while the agent holds this certification (optional)." }),
  ],
  lock: ["name"],
  list: () => api("GET", "/skills"),
  create: (v) => api("PUT", `/skills/${encodeURIComponent(v.name)}`, { description: v.description,
    requires_certification: v.requires_certification }),
  update: (s, v) => api("PUT", `/skills/${encodeURIComponent(s.name)}`, { description: v.description,
    requires_certification: v.requires_certification }),
  remove: (s) => api("DELETE", `/skills/${encodeURIComponent(s.name)}`),
});
