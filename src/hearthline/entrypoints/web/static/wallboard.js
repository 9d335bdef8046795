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
function renderAgents() {
  if (!agentsEl) return;
  const extra = (Date.now() - receivedAt) / 1000;
  agentsEl.replaceChildren(...agents.map((a) => el("tr", { "data-agent": a.agent_id },
    el("td", {}, a.name),
    el("td", {}, el("span", { class: `pill ${a.state}` }, a.state.replace("_", "-") + (a.reason ? ` · ${a.reason}` : ""))),
    el("td", { class: "num" }, duration(a.seconds_in_state + extra)),
    el("td", { class: "num" }, a.contacts),
    el("td", { class: "num" }, duration(a.handle_seconds)),
    el("td", { class: "num" }, a.active_contacts.length))));
}

connect((msg) => {
  if (msg.type !== "snapshot") return;
  queuesEl.replaceChildren(...msg.queues.map(tile));
  agents = msg.agents || []; receivedAt = Date.now();
  renderAgents();
}, document.getElementById("status"));
setInterval(renderAgents, 1000);
