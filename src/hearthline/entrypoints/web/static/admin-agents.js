// Agents: skills with levels 1–5, languages, how many contacts of each medium at once, and a login.
// There is no delete: an agent's history (contacts, state timeline) keeps pointing at her.
import { api, choice, crudPage, el, skillLevels, text, words } from "/static/admin.js";

const skills = (await api("GET", "/skills")).map((s) => s.name);
let logins = new Map();  // agent id → username

// voice / chat / email slots, as one widget named "capacity"
function capacity() {
  const media = ["voice", "chat", "email"];
  const inputs = Object.fromEntries(media.map((m) => [m, el("input", { type: "number", min: "0", max: "50",
    step: "1", name: `capacity_${m}`, "aria-label": `${m} capacity` })]));
  const node = el("div", { class: "field", "data-field": "capacity" }, el("span", { class: "label" }, "Capacity (contacts at once)"),
    el("div", { class: "row" }, ...media.map((m) => el("label", { class: "cell", "data-field": `capacity.${m}` }, `${m} `, inputs[m]))),
    el("small", { class: "help" }, "A call takes the whole agent; chats and e-mails can run side by side."));
  return {
    name: "capacity", node, initial: { voice: 1, chat: 3, email: 5 },
    get: () => Object.fromEntries(media.map((m) => [m, Number(inputs[m].value || 0)])),
    set: (v) => media.forEach((m) => { inputs[m].value = (v || {})[m] ?? 0; }),
  };
}

// username and password: makes the agent's login (role agent) when filled in
function login() {
  const username = el("input", { name: "username", maxlength: "100", autocomplete: "off" });
  const password = el("input", { name: "password", type: "password", maxlength: "200", autocomplete: "new-password" });
  const current = el("p", { class: "hint" });
  const node = el("fieldset", { class: "agent-login" }, el("legend", {}, "Login"), current,
    el("div", { class: "field", "data-field": "username" }, el("label", {}, el("span", {}, "Username"), username)),
    el("div", { class: "field", "data-field": "password" }, el("label", {}, el("span", {}, "Password"), password)));
  return {
    name: "login", node, initial: null, current,
    get: () => (username.value.trim() ? { username: username.value.trim(), password: password.value } : null),
    set: () => { username.value = ""; password.value = ""; },
  };
}

const profile = (v) => ({ name: v.name, kind: v.kind, skills: v.skills, languages: v.languages, capacity: v.capacity,
  time_zone: v.time_zone, home_state: v.home_state });

async function withLogin(agent, v) {
  if (!v.login) return agent;
  try {
    await api("POST", "/users", { ...v.login, role: "agent", agent_id: agent.id, display_name: agent.name });
  } catch (err) {
    err.created = agent;  // the agent exists; saving again adds only the login
    throw err;
  }
  return agent;
}

await crudPage({
  noun: "agent", key: (a) => a.id, describe: (a) => a.name,
  note: "Agents are not deleted: their contacts and timeline keep pointing at them. Take them off queues by removing skills.",
  columns: [["Agent", (a) => a.name], ["Skills", (a) => Object.entries(a.skills).map(([s, l]) => `${s} (${l})`).join(", ") || "—"],
    ["Languages", (a) => a.languages.join(", ") || "—"],
    ["Capacity", (a) => `voice ${a.capacity.voice} · chat ${a.capacity.chat} · email ${a.capacity.email}`],
    ["Login", (a) => logins.get(a.id) || "—"]],
  fields: () => [
    text("name", "Name", { maxlength: 200 }),
    choice("kind", "Kind", () => [{ value: "employee", label: "employee" }, { value: "contractor", label: "contractor" }],
      { initial: "employee" }),
    skillLevels("skills", "Skills", () => skills,
      { help: skills.length ? "Level 1 (learning) to 5 (expert)." : "No skills defined yet: see Skills." }),
    words("languages", "Languages", { placeholder: "e.g. en, es" }),
    capacity(),
    text("time_zone", "Time zone", { initial: "UTC", placeholder: "e.g. America/Chicago", maxlength: 64 }),
    text("home_state", "Home state", { nullable: true, maxlength: 2, placeholder: "e.g. TX",
      help: "US state code, for licensing rules (optional)." }),
    login(),
  ],
  async list() {
    const [agents, users] = await Promise.all([api("GET", "/agents"), api("GET", "/users")]);
    logins = new Map(users.filter((u) => u.agent_id).map((u) => [u.agent_id, u.username]));
    return agents;
  },
  create: async (v) => withLogin(await api("POST", "/agents", profile(v)), v),
  update: async (a, v) => withLogin(await api("PATCH", `/agents/${a.id}`, profile(v)), v),
  onEdit(agent, fields) {
    const has = agent && logins.get(agent.id);
    fields.login.current.textContent = has ? `Logs in as ${has}.` : "Fill in to give the agent a login (optional).";
    fields.login.node.hidden = Boolean(has);
  },
});
