// The supervisor console (and, for client viewers, the wallboard): queue tiles coloured against
// each queue's thresholds, the agent grid with state and time in state (a supervisor can change
// an agent's state), open alerts, and any live chat or e-mail opened read-only beside them.
// Customer text is only ever inserted as text; an e-mail's sanitized HTML goes into a sandboxed frame.
import { connect, duration, el } from "/static/live.js";

const queuesEl = document.getElementById("queues");
const agentsEl = document.getElementById("agents");
const alertsEl = document.getElementById("alerts");
const canSteer = ["admin", "supervisor"].includes(document.querySelector(".wallboard").dataset.role);
const pct = (x) => (x === null || x === undefined ? "—" : `${Math.round(x * 100)}%`);
const TONE = (s) => s === null || s === undefined ? "neutral" : s <= -0.6 ? "angry" : s <= -0.2 ? "upset" : s >= 0.3 ? "pleased" : "neutral";

async function api(method, path, body) {
  const r = await fetch(`/api/v1${path}`, { method, credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).message || r.statusText);
  return r.status === 204 ? null : r.json();
}

// ---- queue tiles: each figure against its threshold (ok, warn = past it, bad = well past) ----
const RANK = { ok: 0, warn: 1, bad: 2 };
function tile(q) {
  const levels = q.levels || {};
  const overall = Object.values(levels).reduce((a, b) => (RANK[b] > RANK[a] ? b : a), "ok");
  const t = q.thresholds || {};
  const row = (label, value, figure, target) => [
    el("dt", {}, label),
    el("dd", { class: figure ? `lvl-${levels[figure] || "ok"}` : "", "data-field": figure || "", title: target || "" }, value)];
  return el("article", { class: `tile ${overall === "ok" ? "" : overall}`, "data-queue": q.queue_id, "data-level": overall },
    el("h3", {}, q.name),
    el("dl", {},
      el("dt", {}, "Waiting"), el("dd", { class: "big", "data-field": "waiting" }, q.waiting),
      ...row("Longest wait", duration(q.longest_wait_seconds)),
      ...row(`Service level (${q.service_level_seconds}s)`, pct(q.service_level), "service_level", `target ${pct(t.service_level)}`),
      ...row("ASA", duration(q.asa_seconds), "asa", `at most ${duration(t.asa_seconds)}`),
      ...row("Abandoned", `${q.abandoned} (${pct(q.abandonment_rate)})`, "abandonment", `at most ${pct(t.abandonment_rate)}`),
      ...row("Est. wait (next)", q.ewt_seconds === null ? "unknown" : duration(q.ewt_seconds), "ewt", `at most ${duration(t.ewt_seconds)}`),
      ...row("Offered / answered", `${q.offered} / ${q.answered}`),
      ...row("AHT", duration(q.aht_seconds)),
      ...row("Staffed / ready", `${q.staffed_agents} / ${q.ready_agents}`)));
}

// ---- the agent grid ----------------------------------------------------------------------------
let agents = [], receivedAt = Date.now();
const rows = new Map();  // agent id → its row, kept so a supervisor's open state menu is not rebuilt
let reasons = [];
if (canSteer) {
  api("GET", "/pause-reasons").then((list) => {
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
    api("PUT", `/agents/${agent.agent_id}/state`, { state, reason: reason || null })
      .catch((e) => alert(e.message)).finally(() => menu.blur());
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
      row = { tr: el("tr", { "data-agent": a.agent_id }), cells: [...Array(6)].map(() => el("td", {})), handling: "" };
      row.cells.slice(2, 5).forEach((c) => c.classList.add("num"));
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
    const handling = a.active_contacts.join(",");
    if (handling !== row.handling) {  // rebuilt only when it changes: a click is never lost
      row.handling = handling;
      now.replaceChildren(...(a.active_contacts.length ? a.active_contacts.map((id) => canSteer
        ? el("button", { class: "open", "data-open": id, onclick: () => watch(id) }, `Open ${id.slice(0, 6).toUpperCase()}`)
        : el("span", {}, id.slice(0, 6).toUpperCase())) : ["—"]));
    }
    if (row.menu && document.activeElement !== row.menu) {
      const value = a.presence === "paused" ? `paused:${a.reason}` : a.presence;
      if (![...row.menu.options].some((o) => o.value === value)) {  // e.g. "missed", set by the router
        row.menu.append(el("option", { value }, `Paused — ${a.reason}`));
      }
      row.menu.value = value;
    }
    return row.tr;
  }));
}

// ---- alerts ------------------------------------------------------------------------------------
const alerts = new Map();
function renderAlerts() {
  if (!alertsEl) return;
  const open = [...alerts.values()].filter((a) => !a.acknowledged_at)
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  const count = document.getElementById("alert-count");
  count.hidden = !open.length; count.textContent = String(open.length);
  alertsEl.replaceChildren(...(open.length ? open.map((a) => el("li", { class: `alert ${a.severity}`, "data-alert": a.id },
    el("strong", {}, a.kind === "tone" ? "Tone" : "Threshold"), " ", el("span", {}, a.message),
    el("span", { class: "hint" }, ` · ${new Date(a.created_at).toLocaleTimeString()}`),
    a.interaction_id ? el("button", { onclick: () => watch(a.interaction_id) }, "Open conversation") : "",
    el("button", { onclick: () => api("POST", `/alerts/${a.id}/acknowledge`).then((x) => { alerts.set(x.id, x); renderAlerts(); })
      .catch((e) => alert(e.message)) }, "Acknowledge"))) : [el("li", { class: "empty" }, "No open alert.")]));
}
if (alertsEl) api("GET", "/alerts").then((list) => { list.forEach((a) => alerts.set(a.id, a)); renderAlerts(); });

// ---- a conversation, read-only -----------------------------------------------------------------
const panel = document.getElementById("watch");
let watching = null, lastSeq = 0, customerName = "Customer";
async function watch(id) {
  if (watching && watching !== id) live.send({ type: "unwatch", interaction_id: watching });
  watching = id; lastSeq = 0;
  document.getElementById("watch-transcript").replaceChildren();
  panel.hidden = false;
  document.querySelector(".wallboard").classList.add("watching");
  const i = await api("GET", `/interactions/${id}`).catch((e) => { alert(e.message); return null; });
  if (!i) return;
  customerName = i.customer.name || i.customer.email || "Customer";
  document.getElementById("watch-title").textContent = `${customerName} · ${i.channel}`;
  document.getElementById("watch-info").textContent =
    `${i.state.replace("_", "-")} · ref ${i.id.slice(0, 8).toUpperCase()}` + (["chat", "email"].includes(i.channel) ? "" : " · a call: nothing written to show");
  live.send({ type: "watch", interaction_id: id });
  await catchUp();
}
async function catchUp() {
  if (!watching) return;
  const list = await api("GET", `/interactions/${watching}/messages?after_seq=${lastSeq}`).catch(() => []);
  list.forEach(show);
}
function show(m) {
  if (m.seq <= lastSeq) return;
  lastSeq = m.seq;
  const meta = el("div", { class: "meta" }, m.sender === "customer" ? customerName : m.sender === "agent" ? "Agent" : "Hearthline",
    " · ", new Date(m.created_at).toLocaleTimeString());
  if (m.sender === "customer" && m.sentiment !== null && m.sentiment !== undefined) {
    meta.append(" · ", el("span", { class: `tone ${TONE(m.sentiment)}` }, `${TONE(m.sentiment)} ${m.sentiment.toFixed(2)}`));
  }
  const body = el("div", {});
  if (m.html) {
    const frame = el("iframe", { sandbox: "", class: "mail-html", title: "E-mail" });
    frame.srcdoc = m.html;
    body.append(frame);
  } else body.append(el("p", {}, m.body));
  const list = document.getElementById("watch-transcript");
  list.append(el("li", { class: `msg ${m.sender}`, "data-seq": String(m.seq) }, meta, body));
  list.scrollTop = list.scrollHeight;
}
document.getElementById("watch-close").addEventListener("click", () => {
  if (watching) live.send({ type: "unwatch", interaction_id: watching });
  watching = null; panel.hidden = true;
  document.querySelector(".wallboard").classList.remove("watching");
});
const HAPPENED = { MessagesRead: "read", InteractionTransferred: "transferred", OfferAccepted: "accepted by an agent",
  InteractionOffered: "offered to an agent", InteractionQueued: "waiting in queue", InteractionHeld: "on hold",
  InteractionResumed: "resumed", InteractionWrapUpStarted: "in wrap-up", InteractionCompleted: "completed",
  InteractionAbandoned: "the customer left", InteractionReopened: "reopened" };
let typingTimer = null;
function onEvent(e) {
  if (e.interaction_id !== watching) return;
  if (e.name === "MessageAdded") show(e.data.message);
  else if (e.name === "Typing") {
    const line = document.getElementById("watch-typing");
    line.textContent = `${e.data.sender === "customer" ? customerName : "The agent"} is typing…`;
    line.hidden = !e.data.typing;
    clearTimeout(typingTimer); typingTimer = setTimeout(() => { line.hidden = true; }, 6000);
  } else if (HAPPENED[e.name] && e.name !== "MessagesRead") {
    document.getElementById("watch-info").textContent = `${HAPPENED[e.name]} · ${new Date(e.at).toLocaleTimeString()}`;
  }
}

const live = connect((msg) => {
  if (msg.type === "snapshot") {
    queuesEl.replaceChildren(...msg.queues.map(tile));
    agents = msg.agents || []; receivedAt = Date.now();
    renderAgents();
  } else if (msg.type === "alert" && msg.alert) {
    alerts.set(msg.alert.id, msg.alert); renderAlerts();
  } else if (msg.type === "event") {
    onEvent(msg.event);
  } else if (msg.type === "error") {
    document.getElementById("watch-info").textContent = msg.error;
  }
}, document.getElementById("status"), () => {
  if (watching) { live.send({ type: "watch", interaction_id: watching }); catchUp(); }
});
setInterval(renderAgents, 1000);
