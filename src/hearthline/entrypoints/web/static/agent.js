// The agent desk: offers, one tab per contact in hand, and for the open contact its conversation,
// controls (hold, end, transfer, wrap-up), customer panel, script and knowledge search.
//
// Each contact's workspace is built once and then updated in place, so a live update never
// steals the focus or the half-typed reply of a busy agent. Text from customers is only ever
// put into the page as text (textContent), never as HTML; an e-mail's HTML arrives sanitized
// from the server and is shown inside a sandboxed frame that runs no script.
import { connect, duration, el } from "/static/live.js";

const desk = document.querySelector(".desk");
const agentId = desk.dataset.agent;
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const r = await fetch(`/api/v1${path}`, { method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (!r.ok) {
    const e = await r.json().catch(() => ({}));
    const err = new Error(e.message || r.statusText); err.status = r.status; err.body = e; throw err;
  }
  return r.status === 204 ? null : r.json();
}
const say = (e) => toast(e.message || String(e), "error");
function toast(text, kind = "info") {
  const t = el("div", { class: `toast ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  document.body.append(t);
  setTimeout(() => t.remove(), 5000);
}

const TONE = (s) => s === null || s === undefined ? "neutral" : s <= -0.6 ? "angry" : s <= -0.2 ? "upset" : s >= 0.3 ? "pleased" : "neutral";
const LIVE = ["accepted", "held", "wrap_up"];
const contacts = new Map();  // interaction id → contact (see track())
let selected = null;
let myState = null;

// ---- the lists: offers and tabs ------------------------------------------------------------
async function refresh() {
  const [state, offers] = await Promise.all([api("GET", `/agents/${agentId}/state`), api("GET", `/agents/${agentId}/offers`)]);
  const list = await Promise.all(state.active_contacts.map((id) => api("GET", `/interactions/${id}`).catch(() => null)));
  showState(state);
  $("offers").replaceChildren(...(offers.length ? offers.map(offerCard) : [el("p", { class: "empty" }, "No offer right now.")]));
  const live = list.filter((c) => c && LIVE.includes(c.state));
  for (const c of live) track(c);
  for (const id of [...contacts.keys()]) {
    if (!live.some((c) => c.id === id)) forget(id);
  }
  if ((!selected || !contacts.has(selected)) && live.length) selected = live[0].id;
  const open = selected && contacts.get(selected);
  if (open && (!open.view || !open.view.node.isConnected)) select(selected);
  if (!live.length) { selected = null; $("work").replaceChildren(el("p", { class: "empty calm" },
    "When a contact is offered it appears on the left. Accept it and it opens here.")); }
  drawTabs();
}

function showState(state) {
  myState = state;
  const mine = $("mystate");
  mine.className = `pill ${state.state}`;
  mine.textContent = state.state.replace("_", "-") + (state.reason ? ` · ${state.reason}` : "");
  const sel = $("state");
  if (document.activeElement !== sel) sel.value = state.presence === "paused" ? `paused:${state.reason}` : state.presence;
  myState.since = Date.now() - state.seconds_in_state * 1000;
  $("load").textContent = state.active_contacts.length ? `${state.active_contacts.length} in hand` : "";
}

function offerCard(o) {
  const left = el("span", { class: "countdown", "data-expires": o.expires_at }, remaining(o.expires_at));
  return el("div", { class: `card offer ${o.channel}` },
    el("strong", {}, `${label(o.channel)} · ${o.queue_name || "queue"}`),
    el("div", {}, o.customer.name || o.customer.email || o.customer.phone || "Unknown customer"),
    el("div", {}, "Waited ", duration(o.wait_seconds), " · answer within ", left),
    el("div", { class: "actions" },
      el("button", { class: "primary", onclick: () => api("POST", `/agents/${agentId}/offers/${o.id}/accept`)
        .then((i) => { selected = i.id; return refresh(); }).catch(say) }, "Accept"),
      el("button", { onclick: () => api("POST", `/agents/${agentId}/offers/${o.id}/reject`).then(refresh).catch(say) }, "Reject")));
}

function drawTabs() {
  const tabs = [...contacts.values()].map((c) => {
    const i = c.interaction;
    const tone = TONE(c.tone);
    return el("button", { class: `tab ${i.id === selected ? "selected" : ""} ${i.state} tone-${tone}`, role: "tab",
      "aria-selected": String(i.id === selected), "data-id": i.id, onclick: () => select(i.id) },
      el("span", { class: "chan" }, label(i.channel)), " ", el("strong", {}, customerName(i)),
      el("span", { class: "tab-state" }, i.state.replace("_", "-")),
      c.unread ? el("span", { class: "badge", "aria-label": `${c.unread} unread` }, String(c.unread)) : "",
      tone !== "neutral" ? el("span", { class: `tone ${tone}` }, tone) : "");
  });
  $("tabs").replaceChildren(...(tabs.length ? tabs : [el("p", { class: "empty" }, "Nothing in hand.")]));
}

const label = (channel) => ({ voice: "Call", chat: "Chat", email: "E-mail", callback: "Callback", outbound: "Outbound" }[channel] || channel);
const customerName = (i) => (i.customer && (i.customer.name || i.customer.email || i.customer.phone)) || "Unknown customer";

// ---- one contact ---------------------------------------------------------------------------
function track(interaction) {
  let c = contacts.get(interaction.id);
  if (!c) {
    c = { interaction, messages: [], lastSeq: 0, unread: 0, tone: null, customerRead: 0, typingUntil: 0, view: null };
    contacts.set(interaction.id, c);
    if (["chat", "email"].includes(interaction.channel)) loadMessages(c);
  } else {
    c.interaction = interaction;
  }
  if (c.view) c.view.update();
  return c;
}

function forget(id) {
  const c = contacts.get(id);
  if (c && c.view) c.view.node.remove();
  contacts.delete(id);
  if (selected === id) selected = null;
}

function select(id) {
  selected = id;
  const c = contacts.get(id);
  if (!c) return;
  if (!c.view) c.view = workspace(c);
  c.unread = 0;
  $("work").replaceChildren(c.view.node);
  c.view.update();
  markRead(c);
  drawTabs();
}

async function loadMessages(c) {
  const list = await api("GET", `/interactions/${c.interaction.id}/messages?after_seq=${c.lastSeq}`).catch(say);
  for (const m of list || []) addMessage(c, m, false);
}

function addMessage(c, m, live) {
  if (m.seq <= c.lastSeq) return;  // already shown (a live event and a reload can overlap)
  c.lastSeq = m.seq;
  c.messages.push(m);
  if (m.sender === "customer") {
    c.tone = m.sentiment; c.typingUntil = 0;
    if (live && c.interaction.id !== selected) c.unread += 1;
  }
  if (c.view) c.view.append(m);
  if (c.interaction.id === selected) markRead(c);
}

let readTimer = null;
function markRead(c) {
  const last = [...c.messages].reverse().find((m) => m.sender === "customer");
  if (!last || c.readSent >= last.seq || !["chat", "email"].includes(c.interaction.channel)) return;
  clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    c.readSent = last.seq;
    api("POST", `/interactions/${c.interaction.id}/read`, { seq: last.seq }).catch(() => {});
  }, 300);
}

function workspace(c) {
  const i = () => c.interaction;
  const written = ["chat", "email"].includes(i().channel);
  const head = el("header", { class: "ws-head" });
  const transferNote = el("div", { class: "transfer-note", role: "note" });
  const timer = el("span", { class: "timer", "aria-label": "Time" });
  const transcript = el("ol", { class: "transcript", "aria-live": "polite" });
  const typingLine = el("div", { class: "typing", hidden: "" }, "The customer is typing…");
  const toneBanner = el("div", { class: "tone-banner", role: "alert", hidden: "" });
  const controls = el("div", { class: "controls" });
  // notes for the record: typed at any time while handling, saved when the contact is completed
  const notes = el("textarea", { class: "notes", rows: "2", maxlength: "10000", placeholder: "Notes for the record",
    "aria-label": "Notes" });
  const wrap = wrapUpPanel(c, notes);
  const transferBox = transferPanel(c);
  const composer = written ? composerFor(c) : el("p", { class: "hint" }, "A voice call: talk on your phone; the controls are below.");
  const side = el("aside", { class: "side" }, customerPanel(c), scriptPanel(c), searchPanel(c));
  const convo = el("section", { class: "conversation" }, toneBanner,
    written ? transcript : el("div", { class: "voice-note" }, el("strong", {}, "Call in progress")), typingLine, composer);
  const node = el("article", { class: "workspace", "data-id": i().id },
    head, el("div", { class: "ws-grid" }, el("div", { class: "ws-main" }, convo, controls, transferBox.node, notes, wrap.node), side));

  function drawHead() {
    const x = i();
    head.replaceChildren(el("h2", {}, customerName(x)),
      el("span", { class: `pill ${x.state}` }, x.state.replace("_", "-")),
      el("span", { class: "hint" }, `${label(x.channel)} · ref ${x.id.slice(0, 8).toUpperCase()}`), timer);
    if (x.transfer && x.transfer.from_agent && x.transfer.from_agent !== agentId) {
      head.after(transferNote);
      transferNote.textContent = `Transferred to you${x.transfer.note ? `: “${x.transfer.note}”` : " (cold, no note)"}`;
    }
  }
  function drawControls() {
    const x = i();
    const act = (text, path, primary) => el("button", { class: primary ? "primary" : "",
      onclick: () => api("POST", `/interactions/${x.id}/${path}`).then(refresh).catch(say) }, text);
    if (x.state === "wrap_up") { controls.replaceChildren(); return; }
    controls.replaceChildren(
      x.state === "held" ? act("Resume", "resume") : act("Hold", "hold"),
      el("button", { onclick: () => transferBox.toggle() }, "Transfer…"),
      act(written ? "Close conversation" : "End call", "end", true));
  }
  function drawTone() {
    const tone = TONE(c.tone);
    toneBanner.hidden = !["angry", "upset"].includes(tone);
    toneBanner.className = `tone-banner ${tone}`;
    toneBanner.textContent = tone === "angry"
      ? "The customer sounds angry. Acknowledge the frustration before solving; a supervisor has been alerted."
      : "The customer sounds upset. Slow down and acknowledge how they feel.";
  }
  function tick() {
    const x = i();
    if (x.state === "wrap_up" && x.wrap_up_deadline) {
      const left = (Date.parse(x.wrap_up_deadline) - Date.now()) / 1000;
      timer.textContent = `wrap-up ${duration(Math.max(0, left))} left`;
      timer.classList.toggle("late", left < 15);
    } else {
      const from = x.state === "wrap_up" ? x.ended_at : x.answered_at;
      timer.textContent = from ? `${x.state === "wrap_up" ? "wrap-up" : "talk"} ${duration((Date.now() - Date.parse(from)) / 1000)}` : "";
      timer.classList.remove("late");
    }
    typingLine.hidden = Date.now() > c.typingUntil;
  }
  function append(m) {
    transcript.append(bubble(m, c));
    transcript.scrollTop = transcript.scrollHeight;
    drawTone();
    drawReceipts(c, transcript);
  }
  for (const m of c.messages) transcript.append(bubble(m, c));
  const view = {
    node, append, tick,
    update() { drawHead(); drawControls(); drawTone(); wrap.update(); transferBox.update(); drawReceipts(c, transcript); tick(); },
    receipts() { drawReceipts(c, transcript); },
  };
  return view;
}

function bubble(m, c) {
  const who = m.sender === "customer" ? customerName(c.interaction) : m.sender === "agent" ? "You" : "Hearthline";
  const body = el("div", { class: "body" });
  if (m.html) {
    // sanitized on the server; a sandboxed frame without scripts is a second fence
    const frame = el("iframe", { sandbox: "", class: "mail-html", title: "E-mail as sent", referrerpolicy: "no-referrer" });
    frame.srcdoc = m.html;
    body.append(frame);
    body.append(el("details", {}, el("summary", {}, "Plain text"), el("pre", {}, m.body)));
  } else {
    body.append(el("p", {}, m.body));
  }
  const meta = el("div", { class: "meta" }, who, " · ", new Date(m.created_at).toLocaleTimeString());
  if (m.sender === "customer" && m.sentiment !== null && m.sentiment !== undefined) {
    const tone = TONE(m.sentiment);
    meta.append(" · ", el("span", { class: `tone ${tone}`, title: `tone ${m.sentiment}` }, tone));
  }
  if (m.email && m.email.delivery) meta.append(" · ", el("span", { class: "delivery" }, m.email.delivery));
  for (const a of m.attachments || []) {
    body.append(el("a", { class: "attachment", href: `/api/v1/attachments/${a.id}`, download: a.filename },
      `📎 ${a.filename} (${Math.ceil(a.size / 1024)} KB)`));
  }
  return el("li", { class: `msg ${m.sender}`, "data-seq": String(m.seq) }, meta, body);
}

function drawReceipts(c, transcript) {
  for (const li of transcript.querySelectorAll("li.msg.agent")) {
    const read = Number(li.dataset.seq) <= c.customerRead;
    let tag = li.querySelector(".receipt");
    if (read && !tag) li.append(el("span", { class: "receipt" }, "Read"));
  }
}

function composerFor(c) {
  const email = c.interaction.channel === "email";
  const box = el("textarea", { rows: email ? "6" : "3", maxlength: email ? "100000" : "4000",
    placeholder: email ? "Write your reply…" : "Type a message — Enter sends, Shift+Enter for a new line",
    "aria-label": "Message to the customer" });
  const subject = email ? el("input", { type: "text", placeholder: "Subject (default: Re: the thread)", maxlength: "998",
    "aria-label": "Subject" }) : null;
  const canned = el("select", { "aria-label": "Canned responses" }, el("option", { value: "" }, "Canned responses…"));
  api("GET", `/interactions/${c.interaction.id}/canned-responses`).then((list) => {
    c.canned = list;
    canned.append(...list.map((r) => el("option", { value: r.id }, r.name)));
    canned.hidden = !list.length;
  }).catch(() => { canned.hidden = true; });
  canned.addEventListener("change", () => {
    const r = (c.canned || []).find((x) => x.id === canned.value);
    if (r) { box.value = box.value ? `${box.value}\n${r.body}` : r.body; box.focus(); }
    canned.value = "";
  });
  let typingSent = 0, idle = null;
  const typing = (on) => api("POST", `/interactions/${c.interaction.id}/typing`, { typing: on }).catch(() => {});
  box.addEventListener("input", () => {
    if (email) return;
    if (Date.now() - typingSent > 3000) { typingSent = Date.now(); typing(true); }
    clearTimeout(idle);
    idle = setTimeout(() => { typingSent = 0; typing(false); }, 4000);
  });
  const send = async () => {
    const text = box.value.trim();
    if (!text) return;
    const body = { body: text, client_ref: crypto.randomUUID() };
    if (subject && subject.value.trim()) body.subject = subject.value.trim();
    sendBtn.disabled = true;
    try {
      const m = await api("POST", `/interactions/${c.interaction.id}/messages`, body);
      box.value = ""; if (subject) subject.value = "";
      addMessage(c, m, false);
      if (!email) { clearTimeout(idle); typingSent = 0; typing(false); }
    } catch (e) { say(e); } finally { sendBtn.disabled = false; box.focus(); }
  };
  box.addEventListener("keydown", (e) => { if (!email && e.key === "Enter" && !e.shiftKey) { e.preventDefault(); send(); } });
  const sendBtn = el("button", { class: "primary", onclick: send }, email ? "Send reply" : "Send");
  return el("div", { class: "composer" }, ...(subject ? [subject] : []), box, el("div", { class: "actions" }, canned, sendBtn));
}

// ---- transfer: to a queue, to an agent, or out to a referral -------------------------------
function transferPanel(c) {
  const node = el("div", { class: "transfer", hidden: "" });
  const note = el("input", { type: "text", maxlength: "1000", placeholder: "Note for whoever takes it (optional: empty = cold)",
    "aria-label": "Transfer note" });
  const queues = el("select", { "aria-label": "Transfer to queue" });
  const agents = el("select", { "aria-label": "Transfer to agent" });
  const go = (kind, target, extra) => {
    if (!target) return toast("Choose where to transfer first.", "error");
    return api("POST", `/interactions/${c.interaction.id}/transfer`,
      { kind, target, note: (extra || note.value).trim() || null }).then(() => { toast("Transferred."); return refresh(); }).catch(say);
  };
  const load = async () => {
    const t = await api("GET", `/interactions/${c.interaction.id}/transfer-targets`).catch(say);
    if (!t) return;
    queues.replaceChildren(el("option", { value: "" }, "Choose a queue…"), ...t.queues.map((q) =>
      el("option", { value: q.id }, `${q.name} — ${q.waiting ?? 0} waiting${q.ewt_seconds != null ? `, ~${duration(q.ewt_seconds)}` : ""}`)));
    agents.replaceChildren(el("option", { value: "" }, "Choose an agent…"), ...t.agents.map((a) =>
      el("option", { value: a.id }, `${a.name} — ${a.free ? "free" : (a.state || "").replace("_", "-")}`)));
  };
  const refer = el("div", { class: "refer" });
  const box = el("input", { type: "search", placeholder: "Search the referral directory", "aria-label": "Search referrals" });
  const results = el("ul", { class: "referrals" });
  const find = () => api("GET", `/referrals?program_id=${c.interaction.program_id}&q=${encodeURIComponent(box.value)}`).then((list) =>
    results.replaceChildren(...(list.length ? list.map((r) => el("li", {},
      el("strong", {}, r.name), " ", el("span", {}, r.target), el("div", { class: "hint" }, r.when_to_use),
      el("button", { onclick: () => go("external", r.target, note.value || r.name) }, `Refer to ${r.name}`))) :
      [el("li", { class: "empty" }, "Nothing found.")]))).catch(say);
  box.addEventListener("input", find);
  refer.append(box, results);
  node.append(el("h3", {}, "Transfer"), note,
    el("div", { class: "row" }, queues, el("button", { onclick: () => go("queue", queues.value) }, "To queue")),
    el("div", { class: "row" }, agents, el("button", { onclick: () => go("agent", agents.value) }, "To agent")),
    el("h4", {}, "Refer to another resource"), refer);
  return {
    node,
    toggle() { node.hidden = !node.hidden; if (!node.hidden) { load(); find(); } },
    update() { if (c.interaction.state === "wrap_up") node.hidden = true; },
  };
}

// ---- wrap-up: notes, disposition (required when the program has any), complete -------------
const dispositions = new Map();
function dispositionsOf(programId) {
  if (!dispositions.has(programId)) dispositions.set(programId, api("GET", `/programs/${programId}/dispositions`));
  return dispositions.get(programId);
}

function wrapUpPanel(c, notes) {
  const choice = el("select", { class: "disposition", "aria-label": "Disposition" });
  dispositionsOf(c.interaction.program_id).then((list) => {
    choice.replaceChildren(el("option", { value: "" }, list.length ? "Choose a disposition…" : "No disposition"),
      ...list.map((d) => el("option", { value: d.code }, d.label)));
    c.requiresDisposition = list.length > 0;
  }).catch(say);
  const complete = el("button", { class: "primary", onclick: () => {
    if (c.requiresDisposition && !choice.value) { choice.focus(); return toast("Choose a disposition to complete.", "error"); }
    api("POST", `/interactions/${c.interaction.id}/complete`, { disposition: choice.value || null, notes: notes.value || null })
      .then(() => { toast("Completed."); return refresh(); }).catch(say);
  } }, "Complete");
  const node = el("div", { class: "wrapup" }, el("h3", {}, "Wrap-up"),
    el("p", { class: "hint" }, "Check your notes above, choose how it ended, and complete."), el("div", { class: "row" }, choice, complete));
  return { node, update() { node.hidden = c.interaction.state !== "wrap_up"; } };
}

// ---- side panels: customer, script, knowledge ----------------------------------------------
function customerPanel(c) {
  const node = el("section", { class: "panel customer" }, el("h3", {}, "Customer"), el("p", { class: "hint" }, "Loading…"));
  api("GET", `/interactions/${c.interaction.id}/customer`).then((pop) => {
    const rows = [];
    const r = pop.record;
    const name = r ? [r.first_name, r.last_name].filter(Boolean).join(" ") : pop.customer.name;
    rows.push(["Name", name], ["E-mail", (r && r.email) || pop.customer.email], ["Phone", (r && r.phone) || pop.customer.phone]);
    if (r && r.external_id) rows.push(["Customer no.", r.external_id]);
    for (const [k, v] of Object.entries((r && r.attributes) || {})) rows.push([k, typeof v === "object" ? JSON.stringify(v) : v]);
    const gathered = Object.entries(pop.attributes || {});
    const history = pop.history.map((h) => el("li", {},
      el("strong", {}, label(h.channel)), ` ${new Date(h.created_at).toLocaleDateString()} · ${h.state.replace("_", "-")}`,
      h.disposition ? ` · ${h.disposition}` : "", h.notes ? el("div", { class: "hint" }, h.notes) : ""));
    node.replaceChildren(el("h3", {}, "Customer"),
      el("dl", {}, ...rows.filter(([, v]) => v).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))])),
      gathered.length ? el("h4", {}, "Gathered (IVR, bot, form)") : "",
      gathered.length ? el("dl", {}, ...gathered.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, typeof v === "object" ? JSON.stringify(v) : String(v))])) : "",
      el("h4", {}, `Earlier contacts (${pop.history.length})`),
      history.length ? el("ul", { class: "history" }, ...history) : el("p", { class: "hint" }, "None: a first contact."));
  }).catch((e) => node.replaceChildren(el("h3", {}, "Customer"), el("p", { class: "hint" }, e.message)));
  return node;
}

function scriptPanel(c) {
  const node = el("section", { class: "panel script" }, el("h3", {}, "Script"));
  api("GET", `/interactions/${c.interaction.id}/script`).then((s) => {
    const steps = new Map(s.steps.map((x) => [x.id, x]));
    const path = [s.start];
    const body = el("div", { class: "step" });
    const draw = () => {
      const step = steps.get(path[path.length - 1]);
      body.replaceChildren(el("h4", {}, step.title), el("p", { class: "say" }, step.text),
        el("div", { class: "actions" },
          ...step.options.map((o) => el("button", { onclick: () => { if (o.next) { path.push(o.next); draw(); } else done(); } }, o.label)),
          path.length > 1 ? el("button", { class: "link", onclick: () => { path.pop(); draw(); } }, "← Back") : ""));
    };
    const done = () => body.replaceChildren(el("p", { class: "hint" }, "End of script."),
      el("button", { class: "link", onclick: () => { path.splice(1); draw(); } }, "Start again"));
    node.replaceChildren(el("h3", {}, `Script · ${s.name}`), body);
    draw();
  }).catch((e) => node.append(el("p", { class: "hint" }, e.status === 404 ? "No script for this queue." : e.message)));
  return node;
}

function searchPanel(c) {
  const box = el("input", { type: "search", placeholder: "Search knowledge and referrals", "aria-label": "Search knowledge" });
  const results = el("ul", { class: "results" });
  let timer = null;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => api("GET", `/search?program_id=${c.interaction.program_id}&q=${encodeURIComponent(box.value)}`)
      .then((list) => results.replaceChildren(...(list.length ? list.map((r) => el("li", {},
        el("span", { class: "kind" }, r.kind === "article" ? "Article" : "Referral"), " ", el("strong", {}, r.title),
        el("div", { class: "hint" }, r.snippet),
        r.kind === "referral" && r.target ? el("button", { onclick: () => api("POST", `/interactions/${c.interaction.id}/transfer`,
          { kind: "external", target: r.target, note: r.title }).then(refresh).catch(say) }, `Refer to ${r.title}`) : ""))
        : [el("li", { class: "empty" }, "Nothing found.")]))).catch(say), 200);
  });
  return el("section", { class: "panel knowledge" }, el("h3", {}, "Knowledge"), box, results);
}

// ---- live updates --------------------------------------------------------------------------
let pending = null;
const soon = () => { clearTimeout(pending); pending = setTimeout(() => refresh().catch(say), 150); };

function onLive(msg) {
  if (msg.type === "state") {  // (re)connected: catch up on whatever was written meanwhile
    showState(msg.state);
    for (const c of contacts.values()) if (["chat", "email"].includes(c.interaction.channel)) loadMessages(c);
    return;
  }
  if (msg.type === "offer" || msg.type === "dropped") { soon(); return; }
  if (msg.type !== "event") return;
  const e = msg.event;
  const c = e.interaction_id ? contacts.get(e.interaction_id) : null;
  if (e.name === "MessageAdded") {
    if (c) { addMessage(c, e.data.message, true); drawTabs(); }
    return;
  }
  if (e.name === "Typing") {
    if (c && e.data.sender === "customer") { c.typingUntil = e.data.typing ? Date.now() + 6000 : 0; if (c.view) c.view.tick(); }
    return;
  }
  if (e.name === "MessagesRead") {
    if (c && e.data.reader === "customer") { c.customerRead = Math.max(c.customerRead, e.data.seq); if (c.view) c.view.receipts(); }
    return;
  }
  soon();
}

$("state").addEventListener("change", () => {
  const [state, reason] = $("state").value.split(":");
  api("PUT", `/agents/${agentId}/state`, { state, reason: reason || null }).then(refresh).catch(say);
});
function remaining(expiresAt) {
  return duration(Math.max(0, (Date.parse(expiresAt) - Date.now()) / 1000));
}
setInterval(() => {
  document.querySelectorAll("[data-expires]").forEach((n) => { n.textContent = remaining(n.dataset.expires); });
  if (myState) $("since").textContent = `for ${duration((Date.now() - myState.since) / 1000)}`;
  const c = selected && contacts.get(selected);
  if (c && c.view) c.view.tick();
}, 250);
connect((m) => { if (m.type === "state" || m.type === "offer") refresh().catch(say); onLive(m); }, $("status"));
refresh().catch(say);
