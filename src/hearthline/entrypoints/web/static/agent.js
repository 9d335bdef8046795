import { connect, duration, el } from "/static/live.js";

const desk = document.querySelector(".desk");
const agentId = desk.dataset.agent;
const api = async (method, path, body) => {
  const r = await fetch(`/api/v1${path}`, { method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  if (!r.ok) { const e = await r.json().catch(() => ({})); throw new Error(e.message || r.statusText); }
  return r.status === 204 ? null : r.json();
};

const stateSel = document.getElementById("state"), mine = document.getElementById("mystate");
const offersEl = document.getElementById("offers"), contactsEl = document.getElementById("contacts");

async function refresh() {
  const [state, offers, contacts] = await Promise.all([
    api("GET", `/agents/${agentId}/state`), api("GET", `/agents/${agentId}/offers`),
    api("GET", `/interactions?agent_id=${agentId}&limit=50`)]);
  mine.className = `pill ${state.state}`;
  mine.textContent = state.state.replace("_", "-") + (state.reason ? ` · ${state.reason}` : "");
  stateSel.value = state.presence === "paused" ? `paused:${state.reason}` : state.presence;
  offersEl.replaceChildren(...(offers.length ? offers.map(offerCard) : [el("p", { class: "empty" }, "No offer right now.")]));
  const live = contacts.filter((c) => ["accepted", "held", "wrap_up"].includes(c.state));
  contactsEl.replaceChildren(...(live.length ? live.map(contactCard) : [el("p", { class: "empty" }, "Nothing in hand.")]));
}

function offerCard(o) {
  const left = el("span", { class: "countdown", "data-expires": o.expires_at }, remaining(o.expires_at));
  return el("div", { class: "card offer" },
    el("strong", {}, `${o.channel} · ${o.queue_name}`), el("div", {}, o.customer.name || "Unknown caller"),
    el("div", {}, "Waited ", duration(o.wait_seconds), " · answer within ", left),
    el("div", { class: "actions" },
      el("button", { class: "primary", onclick: () => api("POST", `/agents/${agentId}/offers/${o.id}/accept`).then(refresh) }, "Accept"),
      el("button", { onclick: () => api("POST", `/agents/${agentId}/offers/${o.id}/reject`).then(refresh) }, "Reject")));
}

// Each program's dispositions, fetched once: completing a contact needs one when the program has any.
const dispositions = new Map();
const chosen = new Map();  // contact id → disposition code picked so far
const referring = new Map();  // contact id → referral search, while the panel is open
const noted = new Map();  // contact id → notes typed so far
function dispositionsOf(programId) {
  if (!dispositions.has(programId)) dispositions.set(programId, api("GET", `/programs/${programId}/dispositions`));
  return dispositions.get(programId);
}

function contactCard(c) {
  const act = (label, path, body, primary) => el("button", { class: primary ? "primary" : "",
    onclick: () => api("POST", `/interactions/${c.id}/${path}`, body()).then(refresh).catch((e) => alert(e.message)) },
    label);
  const none = () => undefined;
  const actions = [];
  if (c.state === "wrap_up") {
    // a re-render (any event refreshes the desk) keeps what she already chose
    const choice = el("select", { class: "disposition", "aria-label": "Disposition",
      onchange: () => chosen.set(c.id, choice.value) });
    dispositionsOf(c.program_id).then((list) => {
      choice.replaceChildren(
        el("option", { value: "" }, list.length ? "Choose a disposition…" : "No disposition"),
        ...list.map((d) => el("option", { value: d.code }, d.label)));
      choice.value = chosen.get(c.id) || "";
    });
    const notes = el("textarea", { class: "notes", rows: "2", maxlength: "10000", placeholder: "Notes for the record",
      "aria-label": "Notes" });
    notes.value = noted.get(c.id) || "";
    notes.addEventListener("input", () => noted.set(c.id, notes.value));
    actions.push(notes, choice,
      act("Complete", "complete", () => ({ disposition: choice.value || null, notes: notes.value || null }), true));
  } else {
    actions.push(c.state === "held" ? act("Resume", "resume", none) : act("Hold", "hold", none),
      act("End", "end", none, true), el("button", { onclick: () => {
        referPanel.hidden = !referPanel.hidden;
        if (referPanel.hidden) referring.delete(c.id); else referring.set(c.id, referring.get(c.id) || "");
      } }, "Refer…"));
  }
  const referPanel = c.state === "wrap_up" ? "" : referrals(c);
  return el("div", { class: "card contact" }, el("strong", {}, `${c.channel} · ${c.state.replace("_", "-")}`),
    el("div", {}, (c.customer && c.customer.name) || "Unknown customer"), el("div", { class: "actions" }, ...actions),
    referPanel);
}

// The program's referral directory: search it, then transfer the customer to the resource found.
function referrals(c) {
  const results = el("ul", { class: "referrals" });
  const box = el("input", { type: "search", placeholder: "Search the referral directory", "aria-label": "Search referrals" });
  box.value = referring.get(c.id) || "";
  const show = () => api("GET", `/referrals?program_id=${c.program_id}&q=${encodeURIComponent(box.value)}`).then((list) =>
    results.replaceChildren(...(list.length ? list.map((r) => el("li", {},
      el("strong", {}, r.name), " ", el("span", {}, r.target), el("div", { class: "hint" }, r.when_to_use),
      el("button", { onclick: () => api("POST", `/interactions/${c.id}/transfer`,
        { kind: "external", target: r.target, note: r.name }).then(refresh).catch((e) => alert(e.message)) },
        `Transfer to ${r.name}`))) : [el("li", { class: "empty" }, "Nothing found.")])));
  box.addEventListener("input", () => { referring.set(c.id, box.value); show(); });
  const panel = el("div", { class: "refer" }, box, results);
  panel.hidden = !referring.has(c.id);  // a re-render keeps it open, with the same search
  show();
  return panel;
}

stateSel.addEventListener("change", () => {
  const [state, reason] = stateSel.value.split(":");
  api("PUT", `/agents/${agentId}/state`, { state, reason: reason || null }).then(refresh).catch((e) => alert(e.message));
});
function remaining(expiresAt) {
  return duration(Math.max(0, (Date.parse(expiresAt) - Date.now()) / 1000));
}
setInterval(() => document.querySelectorAll("[data-expires]").forEach((n) => {
  n.textContent = remaining(n.dataset.expires);
}), 250);
connect(() => refresh(), document.getElementById("status"));
refresh();
