// A program's queues: routing strategy, the skills an agent needs, service level and timers.
import { api, choice, crudPage, number, skillLevels, text } from "/static/admin.js";

const STRATEGIES = ["longest_idle", "most_skilled", "round_robin", "fewest_contacts", "ring_all", "performance",
  "preferred_agent"];
const skills = (await api("GET", "/skills")).map((s) => s.name);
const skillsText = (q) => Object.entries(q.skills).map(([s, l]) => `${s} ≥ ${l}`).join(", ") || "—";

const settings = (v) => ({
  name: v.name, strategy: v.strategy, skills: v.skills, language: v.language, priority: v.priority,
  service_level_seconds: v.service_level_seconds, wrap_up_seconds: v.wrap_up_seconds,
  offer_timeout_seconds: v.offer_timeout_seconds,
});

await crudPage({
  noun: "queue", key: (q) => q.id, describe: (q) => q.name,
  columns: [["Queue", (q) => q.name], ["Strategy", (q) => q.strategy.replaceAll("_", " ")], ["Skills", skillsText],
    ["Service level", (q) => `${q.service_level_seconds}s`]],
  fields: () => [
    text("name", "Name", { maxlength: 200 }),
    choice("strategy", "Strategy", () => STRATEGIES.map((s) => ({ value: s, label: s.replaceAll("_", " ") })),
      { initial: "longest_idle", help: "Which ready agent gets the next contact." }),
    skillLevels("skills", "Required skills", () => skills,
      { help: skills.length ? "An agent needs at least this level (1–5)." : "No skills defined yet: see Skills." }),
    text("language", "Language", { nullable: true, placeholder: "e.g. es", help: "Only agents speaking it (optional)." }),
    number("priority", "Priority", { min: -1000, max: 1000, initial: 0 }),
    number("service_level_seconds", "Service level (seconds)", { min: 0, max: 86400, initial: 20 }),
    number("wrap_up_seconds", "Wrap-up limit (seconds)", { min: 0, max: 86400, initial: 60 }),
    number("offer_timeout_seconds", "Offer time-out (seconds)", { nullable: true, min: 1, max: 600,
      help: "Blank: the server's default." }),
  ],
  list: (ctx) => api("GET", `/queues?program_id=${ctx.program.id}`),
  create: (v, ctx) => api("POST", "/queues", { program_id: ctx.program.id, ...settings(v) }),
  update: (q, v) => api("PATCH", `/queues/${q.id}`, settings(v)),
  remove: (q) => api("DELETE", `/queues/${q.id}`),
});
