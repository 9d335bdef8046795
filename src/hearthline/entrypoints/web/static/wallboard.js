import { connect, duration, el } from "/static/live.js";

const queuesEl = document.getElementById("queues");
const agentsEl = document.getElementById("agents");
const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`);

// Thresholds: a tile turns amber, then red, when the service level falls or the wait grows.
function level(q) {
  const sl = q.service_level, wait = q.longest_wait_seconds, limit = q.service_level_seconds;
  if ((sl !== null && sl < 0.6) || wait > 3 * limit) return "bad";
  if ((sl !== null && sl < 0.8) || wait > limit) return "warn";
  return "ok";
}

function tile(q) {
  const row = (label, value) => [el("dt", {}, label), el("dd", {}, value)];
  return el("article", { class: `tile ${level(q)}`, "data-queue": q.queue_id },
    el("h3", {}, q.name),
    el("dl", {},
      el("dt", {}, "Waiting"), el("dd", { class: "big", "data-field": "waiting" }, q.waiting),
      ...row("Longest wait", duration(q.longest_wait_seconds)),
      ...row(`Service level (${q.service_level_seconds}s)`, pct(q.service_level)),
      ...row("Offered / answered", `${q.offered} / ${q.answered}`),
      ...row("Abandoned", `${q.abandoned} (${pct(q.abandonment_rate)})`),
      ...row("ASA / AHT", `${duration(q.asa_seconds)} / ${duration(q.aht_seconds)}`),
      ...row("Est. wait (next)", q.ewt_seconds === null ? "unknown" : duration(q.ewt_seconds)),
      ...row("Staffed / ready", `${q.staffed_agents} / ${q.ready_agents}`)));
}

let agents = [], receivedAt = Date.now();
const canSteer = ["admin", "supervisor"].includes(document.querySelector(".wallboard").dataset.role);
const rows = new Map();  // agent id → its row, kept so a supervisor's open state menu is not rebuilt
let reasons = [];
if (canSteer) {
  fetch("/api/v1/pause-reasons", { credentials: "same-origin" }).then((r) => r.json()).then((list) => {
    reasons = list;
    rows.forEach((row) => row.menu && row.menu.fill());
    renderAgents();
  });
}

function stateMenu(agent) {
  const menu = el("select", { class: "set-state", "aria-label": `Set the state of ${agent.name}` });
  const fill = () => menu.replaceChildren(el("option", { value: "available" }, "Available"),
    ...reasons.map((r) => el("option", { value: `paused:${r.code}` }, `Paused — ${r.label}`)),
    el("option", { value: "offline" }, "Offline"));
  menu.fill = fill;
  menu.addEventListener("change", () => {
    const [state, reason] = menu.value.split(":");
    fetch(`/api/v1/agents/${agent.agent_id}/state`, { method: "PUT", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ state, reason: reason || null }) })
      .then(async (r) => { if (!r.ok) alert((await r.json()).message); menu.blur(); });
  });
  fill();
  return menu;
}

function renderAgents() {
  if (!agentsEl) return;
  const extra = (Date.now() - receivedAt) / 1000;
  agentsEl.replaceChildren(...agents.map((a) => {
    let row = rows.get(a.agent_id);
    if (!row) {
      row = { tr: el("tr", { "data-agent": a.agent_id }), cells: [...Array(6)].map(() => el("td", {})) };
      row.cells.slice(2).forEach((c) => c.classList.add("num"));
      row.tr.append(...row.cells);
      if (canSteer) { row.menu = stateMenu(a); row.tr.append(el("td", {}, row.menu)); }
      rows.set(a.agent_id, row);
    }
    const [name, state, time, contacts, handle, now] = row.cells;
    name.textContent = a.name;
    state.replaceChildren(el("span", { class: `pill ${a.state}` }, a.state.replace("_", "-") + (a.reason ? ` · ${a.reason}` : "")));
    time.textContent = duration(a.seconds_in_state + extra);
    contacts.textContent = a.contacts;
    handle.textContent = duration(a.handle_seconds);
    now.textContent = a.active_contacts.length;
    if (row.menu && document.activeElement !== row.menu) {
      row.menu.value = a.presence === "paused" ? `paused:${a.reason}` : a.presence;
    }
    return row.tr;
  }));
}

connect((msg) => {
  if (msg.type !== "snapshot") return;
  queuesEl.replaceChildren(...msg.queues.map(tile));
  agents = msg.agents || []; receivedAt = Date.now();
  renderAgents();
}, document.getElementById("status"));
setInterval(renderAgents, 1000);
