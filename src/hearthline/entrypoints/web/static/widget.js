/*
 * Hearthline web chat widget. Put one tag per program on any page:
 *
 *   <script src="https://HEARTHLINE_HOST/widget.js" data-program="PROGRAM_ID" async></script>
 *
 * Optional: data-title="Chat with us", data-color="#0b6bcb" (any CSS colour).
 *
 * It draws a launcher button and a chat panel inside a shadow root (the page's CSS cannot reach
 * in, ours cannot leak out). Everything anyone typed is shown with textContent, never as HTML.
 * The chat's token is kept in this page's localStorage, per Hearthline server and program, so a
 * reload resumes the conversation; the WebSocket reconnects with backoff and asks for the
 * messages after the last one it has, and messages typed while offline wait in an outbox (also
 * in localStorage) and are sent when the connection is back — each with its own id, so a resend
 * is never doubled.
 */
(() => {
  "use strict";

  const script = document.currentScript
    || Array.from(document.querySelectorAll("script[data-program]"))
      .find((s) => /\/widget\.js(\?|#|$)/.test(s.src) && !s.hasAttribute("data-hearthline-loaded"));
  if (!script || script.hasAttribute("data-hearthline-loaded")) return;
  script.setAttribute("data-hearthline-loaded", "");
  const PROGRAM = (script.getAttribute("data-program") || "").trim();
  if (!PROGRAM) {
    console.error("Hearthline chat: the script tag needs data-program=\"PROGRAM_ID\"");
    return;
  }
  const TITLE = (script.getAttribute("data-title") || "Chat with us").slice(0, 80);
  const COLOR = (() => {
    const wanted = script.getAttribute("data-color");
    return wanted && window.CSS && CSS.supports("color", wanted) ? wanted : "#0b6bcb";
  })();
  const API = new URL("api/v1/chat/", new URL(".", script.src)).href;
  const SOCKET = API.replace(/^http/, "ws") + "ws";
  const KEY = `hearthline-chat:${API}:${PROGRAM}`;
  const MAX_CHARS = 4000;
  const EMAIL = /^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$/;

  // ---- storage (the host page's localStorage; it may be unavailable) --------------------------
  const store = {
    read(suffix, fallback) {
      try {
        const raw = localStorage.getItem(KEY + suffix);
        return raw === null ? fallback : JSON.parse(raw);
      } catch (_) {
        return fallback;
      }
    },
    write(suffix, value) {
      try {
        if (value === null) localStorage.removeItem(KEY + suffix);
        else localStorage.setItem(KEY + suffix, JSON.stringify(value));
      } catch (_) { /* private mode or full: the chat still works, it just will not resume */ }
    },
  };

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));  // randomUUID needs a secure context
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // ---- the DOM: h() takes text as text, always ---------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "class") el.className = value;
      else if (name === "text") el.textContent = value;
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      el.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  const CSS_TEXT = `
    :host { all: initial !important; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    .root { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      color: #1f2328; --accent: ${COLOR}; }
    button, input, textarea { font: inherit; color: inherit; margin: 0; }
    .launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px;
      border-radius: 50%; border: 0; background: var(--accent); color: #fff; cursor: pointer;
      box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .launcher:focus-visible { outline: 3px solid #111; outline-offset: 2px; }
    .badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; padding: 0 6px;
      border-radius: 10px; background: #d1242f; color: #fff; font-size: 12px; line-height: 20px; text-align: center; }
    .panel { position: fixed; right: 20px; bottom: 88px; z-index: 2147483000; width: 360px;
      max-width: calc(100vw - 24px); height: 560px; max-height: calc(100vh - 110px); display: flex;
      flex-direction: column; background: #fff; border-radius: 12px; overflow: hidden;
      box-shadow: 0 10px 40px rgba(0,0,0,.25); border: 1px solid #d0d7de; }
    header { background: var(--accent); color: #fff; padding: 12px 14px; display: flex; align-items: center; gap: 8px; }
    header .titles { flex: 1; min-width: 0; }
    header .title { font-weight: 600; font-size: 15px; }
    header .subtitle { font-size: 12px; opacity: .9; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    header button { background: transparent; border: 0; color: #fff; cursor: pointer; font-size: 22px;
      line-height: 1; padding: 2px 6px; border-radius: 6px; }
    header button:hover { background: rgba(255,255,255,.15); }
    .banner { background: #fff8c5; color: #4d2d00; font-size: 12px; padding: 6px 14px; border-bottom: 1px solid #eac54f; }
    .body { flex: 1; min-height: 0; display: flex; flex-direction: column; }
    form.prechat { padding: 16px; overflow-y: auto; display: flex; flex-direction: column; gap: 10px; }
    form.prechat p.intro { margin: 0 0 4px; color: #57606a; }
    label { display: flex; flex-direction: column; gap: 4px; font-weight: 600; font-size: 13px; }
    input, textarea { border: 1px solid #8c959f; border-radius: 8px; padding: 8px 10px; font-weight: 400;
      background: #fff; width: 100%; }
    input:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: 0; border-color: transparent; }
    [aria-invalid="true"] { border-color: #d1242f; }
    .error { color: #d1242f; font-size: 12px; font-weight: 400; min-height: 0; }
    .primary { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 9px 14px;
      cursor: pointer; font-weight: 600; }
    .primary:disabled { opacity: .6; cursor: default; }
    .secondary { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 8px; padding: 7px 12px; cursor: pointer; }
    .queue { background: #ddf4ff; color: #0a3069; padding: 8px 14px; font-size: 13px; border-bottom: 1px solid #b6e3ff; }
    .queue strong { font-weight: 600; }
    ol.log { list-style: none; margin: 0; padding: 12px; flex: 1; overflow-y: auto; display: flex;
      flex-direction: column; gap: 6px; background: #f6f8fa; }
    li.msg { display: flex; flex-direction: column; max-width: 85%; }
    li.msg .who { font-size: 11px; color: #57606a; margin: 2px 4px; }
    li.msg .bubble { padding: 8px 11px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere;
      word-break: break-word; }
    li.customer { align-self: flex-end; align-items: flex-end; }
    li.customer .bubble { background: var(--accent); color: #fff; border-bottom-right-radius: 4px; }
    li.customer.pending .bubble { opacity: .65; }
    li.customer.failed .bubble { background: #ffebe9; color: #82071e; border: 1px solid #ff818266; }
    li.agent { align-self: flex-start; }
    li.agent .bubble { background: #fff; border: 1px solid #d0d7de; border-bottom-left-radius: 4px; }
    li.system, li.note { align-self: center; max-width: 95%; }
    li.system .bubble, li.note .bubble { background: transparent; color: #57606a; font-size: 12px; padding: 2px 6px;
      text-align: center; }
    li.msg .meta { font-size: 11px; color: #57606a; margin: 2px 4px 0; }
    .typing { font-size: 12px; color: #57606a; padding: 4px 14px; background: #f6f8fa; font-style: italic; }
    form.composer { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #d0d7de; background: #fff; }
    form.composer textarea { resize: none; height: 42px; max-height: 120px; }
    .tools { display: flex; justify-content: space-between; align-items: center; gap: 8px; padding: 0 10px 8px; background: #fff; font-size: 12px; }
    .link { background: none; border: 0; color: #57606a; cursor: pointer; text-decoration: underline; padding: 2px; }
    .after { padding: 12px 14px; border-top: 1px solid #d0d7de; background: #fff; display: flex; flex-direction: column; gap: 8px; }
    .after h3 { margin: 0; font-size: 14px; }
    .stars { display: flex; gap: 4px; }
    .stars button { border: 1px solid #d0d7de; background: #fff; border-radius: 8px; width: 40px; height: 36px;
      cursor: pointer; font-size: 18px; color: #9a6700; }
    .stars button[aria-pressed="true"] { background: #fff8c5; border-color: #bf8700; }
    .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
    .status { font-size: 12px; color: #57606a; }
    @media (max-width: 420px) { .panel { right: 8px; left: 8px; width: auto; bottom: 84px; } }
  `;

  const host = document.createElement("hearthline-chat");
  host.setAttribute("data-program", PROGRAM);
  host.setAttribute("style", "all: initial !important; display: block !important; position: static !important;");
  const shadow = host.attachShadow({ mode: "open" });
  shadow.append(h("style", { text: CSS_TEXT }));

  // ---- the elements ------------------------------------------------------------------------------
  const ICON = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  ICON.setAttribute("viewBox", "0 0 24 24");
  ICON.setAttribute("aria-hidden", "true");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z");
  ICON.append(path);

  const ui = {};
  ui.badge = h("span", { class: "badge", hidden: true });
  ui.launcher = h("button", { class: "launcher", type: "button", "aria-label": `${TITLE} (open)`,
    "aria-expanded": "false", onclick: () => setOpen(!state.open) }, ICON, ui.badge);
  ui.subtitle = h("div", { class: "subtitle", "aria-live": "polite" });
  ui.close = h("button", { type: "button", class: "minimize", "aria-label": "Minimize the chat", text: "\u2212",
    onclick: () => setOpen(false) });
  ui.banner = h("div", { class: "banner", role: "status", hidden: true });

  function field(name, label, input) {
    const error = h("span", { class: "error", id: `hl-${name}-error`, "aria-live": "polite" });
    input.setAttribute("name", name);
    input.setAttribute("aria-describedby", error.id);
    input.addEventListener("input", () => {  // a fixed field loses its complaint at once
      error.textContent = "";
      input.setAttribute("aria-invalid", "false");
    });
    return { input, error, label: h("label", {}, label, input, error) };
  }
  ui.name = field("name", "Your name", h("input", { type: "text", maxlength: 100, autocomplete: "name", required: true }));
  ui.email = field("email", "Your e-mail", h("input", { type: "email", maxlength: 254, autocomplete: "email", required: true }));
  ui.question = field("question", "How can we help?", h("textarea", { rows: 4, maxlength: MAX_CHARS, required: true }));
  ui.formError = h("div", { class: "error", role: "alert" });
  ui.start = h("button", { class: "primary", type: "submit", text: "Start chat" });
  ui.prechat = h("form", { class: "prechat", novalidate: true, onsubmit: onStart },
    h("p", { class: "intro", text: "Tell us who you are and what you need; an agent will be with you shortly." }),
    ui.name.label, ui.email.label, ui.question.label, ui.formError, ui.start);

  ui.queue = h("div", { class: "queue", "aria-live": "polite", hidden: true });
  ui.log = h("ol", { class: "log", "aria-live": "polite", "aria-label": "Conversation" });
  ui.typing = h("div", { class: "typing", "aria-live": "polite", hidden: true });
  ui.text = h("textarea", { "aria-label": "Your message", placeholder: "Write a message…", maxlength: MAX_CHARS,
    rows: 1, onkeydown: onComposerKey, oninput: onComposerInput });
  ui.send = h("button", { class: "primary", type: "submit", text: "Send" });
  ui.composer = h("form", { class: "composer", onsubmit: onSend }, ui.text, ui.send);
  ui.composeError = h("span", { class: "error", role: "alert" });
  ui.end = h("button", { type: "button", class: "link end", text: "End chat", onclick: () => confirmEnd(true) });
  ui.endConfirm = h("span", { class: "row", hidden: true }, "End this chat?",
    h("button", { type: "button", class: "secondary", text: "Yes, end it", onclick: onEnd }),
    h("button", { type: "button", class: "link", text: "Cancel", onclick: () => confirmEnd(false) }));
  ui.tools = h("div", { class: "tools" }, ui.composeError, h("span", {}, ui.end, ui.endConfirm));

  ui.stars = [1, 2, 3, 4, 5].map((n) => h("button", { type: "button", "aria-pressed": "false",
    "aria-label": `${n} out of 5`, "data-rating": n, text: "\u2605", onclick: () => pickRating(n) }));
  ui.comment = h("textarea", { rows: 2, maxlength: 1000, "aria-label": "Comment (optional)",
    placeholder: "Anything to add? (optional)" });
  ui.rateStatus = h("span", { class: "status", role: "status" });
  ui.rateSend = h("button", { type: "button", class: "primary", text: "Send rating", disabled: true, onclick: onRate });
  ui.rating = h("div", { class: "rating" }, h("h3", { text: "How was this chat?" }),
    h("div", { class: "stars", role: "group", "aria-label": "Rating" }, ...ui.stars), ui.comment,
    h("div", { class: "row" }, ui.rateSend, ui.rateStatus));
  ui.thanks = h("div", { class: "status thanks", text: "Thank you for your feedback!", hidden: true });
  ui.transcriptSend = h("button", { type: "button", class: "secondary", text: "E-mail me the transcript",
    onclick: onTranscript });
  ui.transcriptStatus = h("span", { class: "status transcript-status", role: "status" });
  ui.transcript = h("div", { class: "row" }, ui.transcriptSend, ui.transcriptStatus);
  ui.restart = h("button", { type: "button", class: "link", text: "Start a new chat", onclick: restart });
  ui.after = h("div", { class: "after", hidden: true }, ui.rating, ui.thanks, ui.transcript, ui.restart);

  ui.conversation = h("div", { class: "body", hidden: true }, ui.queue, ui.log, ui.typing, ui.composer, ui.tools,
    ui.after);
  ui.panel = h("section", { class: "panel", role: "dialog", "aria-label": TITLE, hidden: true },
    h("header", {}, h("div", { class: "titles" }, h("div", { class: "title", text: TITLE }), ui.subtitle), ui.close),
    ui.banner, h("div", { class: "body" }, ui.prechat, ui.conversation));
  shadow.append(h("div", { class: "root" }, ui.launcher, ui.panel));

  // ---- state -------------------------------------------------------------------------------------
  const saved = store.read("", {}) || {};
  const state = {
    token: typeof saved.token === "string" ? saved.token : null,
    open: Boolean(saved.open),
    status: null,
    known: new Map(),  // seq → <li>
    pending: new Map(),  // client_ref → <li> not yet numbered
    lastSeq: 0,  // every message up to this one is shown (what the socket asks after)
    outbox: (() => {  // [{client_ref, body}] in order, until the server has them
      const kept = store.read(":outbox", []);
      return Array.isArray(kept) ? kept.filter((i) => i && typeof i.body === "string" && typeof i.client_ref === "string") : [];
    })(),
    flushing: false,
    flushTimer: null,
    ws: null,
    attempts: 0,
    reconnectTimer: null,
    watchdog: null,
    agentReadSeq: 0,
    readSent: 0,
    readTimer: null,
    typingSince: 0,
    typingTimer: null,
    agentTypingTimer: null,
    unread: 0,
    rating: 0,
    endNoted: false,
  };

  function save() {
    store.write("", state.token ? { token: state.token, open: state.open } : null);
    store.write(":outbox", state.token && state.outbox.length ? state.outbox : null);
  }

  // ---- talking to the server ---------------------------------------------------------------------
  async function api(method, path, body) {
    const headers = {};
    if (state.token) headers.Authorization = `Bearer ${state.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(API + path, { method, headers, mode: "cors", credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body) });
    let data = null;
    try { data = await response.json(); } catch (_) { /* 204 */ }
    return { ok: response.ok, status: response.status, data,
      retryAfter: Number(response.headers.get("Retry-After")) || 0 };
  }

  function problem(result) {
    const d = result.data || {};
    return typeof d.message === "string" ? d.message : `error ${result.status}`;
  }

  // ---- opening and closing the panel -------------------------------------------------------------
  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.setAttribute("aria-label", `${TITLE} (${open ? "close" : "open"})`);
    if (open) {
      state.unread = 0;
      renderBadge();
      scheduleRead();
      scrollDown();
      (state.token ? (ui.after.hidden ? ui.text : null) : ui.name.input)?.focus({ preventScroll: true });
    }
    save();
  }

  function renderBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
  }

  function showConversation(on) {
    ui.prechat.hidden = on;
    ui.conversation.hidden = !on;
  }

  function banner(text) {
    ui.banner.hidden = !text;
    ui.banner.textContent = text || "";
  }

  // ---- the pre-chat form -------------------------------------------------------------------------
  function fieldError(which, message) {
    const f = ui[which];
    if (!f) return;
    f.error.textContent = message || "";
    f.input.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function checkPrechat() {
    const values = { name: ui.name.input.value.trim(), email: ui.email.input.value.trim(),
      question: ui.question.input.value.trim() };
    const errors = {};
    if (!values.name) errors.name = "Please enter your name.";
    else if (values.name.length > 100) errors.name = "At most 100 characters.";
    if (!EMAIL.test(values.email) || values.email.length > 254) errors.email = "Please enter a valid e-mail address.";
    if (!values.question) errors.question = "Please tell us what you need.";
    else if (values.question.length > MAX_CHARS) errors.question = `At most ${MAX_CHARS} characters.`;
    return { values, errors };
  }

  async function onStart(event) {
    event.preventDefault();
    ui.formError.textContent = "";
    const { values, errors } = checkPrechat();
    for (const name of ["name", "email", "question"]) fieldError(name, errors[name]);
    const first = ["name", "email", "question"].find((n) => errors[n]);
    if (first) {
      ui[first].input.focus();
      return;
    }
    ui.start.disabled = true;
    ui.start.textContent = "Starting…";
    try {
      const result = await api("POST", "sessions", { program_id: PROGRAM, ...values,
        page_url: location.href.slice(0, 2000), client_ref: uuid() });
      if (result.ok) {
        state.token = result.data.token;
        save();
        ui.question.input.value = "";
        showConversation(true);
        applyView(result.data);
        connect();
        ui.text.focus();
        return;
      }
      const d = result.data || {};
      const fieldName = String((d.details && d.details.field) || "").split(".").pop();
      if (result.status === 422 && ["name", "email", "question"].includes(fieldName)) {
        fieldError(fieldName, d.message.replace(/^[^:]*:\s*/, ""));
      } else if (result.status === 429) {
        ui.formError.textContent = `Too many chats were started from here. Please try again in ${result.retryAfter || 60} seconds.`;
      } else if (result.status === 404 || fieldName === "program_id") {
        ui.formError.textContent = "Sorry, this chat is not available right now.";
      } else {
        ui.formError.textContent = `Sorry, the chat could not start (${problem(result)}).`;
      }
    } catch (_) {
      ui.formError.textContent = "We could not reach the chat service. Check your connection and try again.";
    } finally {
      ui.start.disabled = false;
      ui.start.textContent = "Start chat";
    }
  }

  // ---- the conversation --------------------------------------------------------------------------
  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function note(text) {
    ui.log.append(h("li", { class: "msg note" }, h("div", { class: "bubble", text })));
    scrollDown();
  }

  function messageItem(m) {
    const li = h("li", { class: `msg ${m.sender === "customer" || m.sender === "agent" ? m.sender : "system"}` });
    if (m.sender === "agent") li.append(h("div", { class: "who", text: m.agent_name || "Agent" }));
    li.append(h("div", { class: "bubble", text: String(m.body) }));
    if (m.sender === "customer") li.append(h("div", { class: "meta" }));
    return li;
  }

  function place(li, seq) {
    li.dataset.seq = String(seq);
    // After every shown message with a smaller number; before later ones and the unsent.
    let before = null;
    for (const child of ui.log.children) {
      const other = child.dataset.seq ? Number(child.dataset.seq) : null;
      if ((other !== null && other > seq) || child.classList.contains("pending")) {
        before = child;
        break;
      }
    }
    ui.log.insertBefore(li, before);
  }

  function accept(m) {
    if (!m || typeof m.seq !== "number" || state.known.has(m.seq)) return false;
    let li = m.client_ref ? state.pending.get(m.client_ref) : null;
    if (li) {
      state.pending.delete(m.client_ref);
      li.classList.remove("pending", "failed");
      li.remove();
    } else {
      li = messageItem(m);
    }
    place(li, m.seq);
    state.known.set(m.seq, li);
    while (state.known.has(state.lastSeq + 1)) state.lastSeq += 1;
    renderReceipts();
    scrollDown();
    return true;
  }

  function renderReceipts() {
    let last = null;
    for (const [seq, li] of state.known) {
      if (li.classList.contains("customer")) {
        li.querySelector(".meta").textContent = "";
        if (!last || seq > last[0]) last = [seq, li];
      }
    }
    if (last) last[1].querySelector(".meta").textContent = last[0] <= state.agentReadSeq ? "Read" : "Sent";
    for (const li of state.pending.values()) {
      const meta = li.querySelector(".meta");
      if (!li.classList.contains("failed")) meta.textContent = state.ws && state.ws.readyState === 1 ? "Sending…" : "Waiting for connection…";
    }
  }

  function minutes(seconds) {
    if (seconds < 60) return "less than a minute";
    const m = Math.round(seconds / 60);
    return m === 1 ? "about 1 minute" : `about ${m} minutes`;
  }

  function applyStatus(s) {
    const previous = state.status;
    state.status = s;
    state.agentReadSeq = Math.max(state.agentReadSeq, s.agent_read_seq || 0);
    state.readSent = Math.max(state.readSent, s.customer_read_seq || 0);
    const live = previous !== null;
    if (s.state === "waiting") {
      ui.subtitle.textContent = s.transferred ? "Being transferred" : "Waiting for an agent";
      if (live && previous.state === "active" && s.transferred) note("Your agent is transferring you. Please stay with us.");
      ui.queue.hidden = false;
      ui.queue.replaceChildren();
      if (s.position >= 1) ui.queue.append(h("strong", { text: `You are number ${s.position} in line.` }));
      else ui.queue.append(h("strong", { text: "Connecting you with an agent…" }));
      if (s.position >= 1 && typeof s.estimated_wait_seconds === "number") {
        ui.queue.append(` Estimated wait: ${minutes(s.estimated_wait_seconds)}.`);
      }
    } else {
      ui.queue.hidden = true;
    }
    if (s.state === "active") {
      const name = s.agent_name || "An agent";
      ui.subtitle.textContent = `Chatting with ${name}`;
      if (live && (previous.state !== "active" || previous.agent_name !== s.agent_name)) note(`${name} joined the chat.`);
    }
    const ended = s.state === "ended";
    ui.composer.hidden = ended;
    ui.tools.hidden = ended;
    ui.after.hidden = !ended;
    if (ended) {
      ui.subtitle.textContent = "Chat ended";
      hideAgentTyping();
      stopTyping(false);
      // Her own leaving is in the conversation already (a system message); the agent's is not.
      if (s.ended_by === "agent" && !state.endNoted) note("The agent has ended the chat.");
      state.endNoted = true;
      ui.rating.hidden = s.rating !== null && s.rating !== undefined;
      ui.thanks.hidden = !ui.rating.hidden;
      if (s.transcript_sent) {
        ui.transcriptSend.disabled = true;
        if (!ui.transcriptStatus.textContent) ui.transcriptStatus.textContent = "The transcript was sent.";
      }
    }
    renderReceipts();
    if (!previous || previous.state !== s.state) scrollDown();  // the panes below the log changed size
  }

  function applyView(view) {
    for (const m of view.messages || []) accept(m);
    applyStatus(view);
    scheduleRead();
  }

  // ---- the socket --------------------------------------------------------------------------------
  function connect() {
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (!state.token || state.ws) return;
    if (navigator.onLine === false) {
      banner("You are offline. Your messages will be sent when the connection is back.");
      return;
    }
    const ws = new WebSocket(`${SOCKET}?token=${encodeURIComponent(state.token)}&after_seq=${state.lastSeq}`);
    state.ws = ws;
    ws.onopen = () => {
      state.attempts = 0;
      banner("");
      pet();
      renderReceipts();
      flush();
    };
    ws.onmessage = (event) => {
      pet();
      let data;
      try { data = JSON.parse(event.data); } catch (_) { return; }
      if (data.type === "status") applyStatus(data);
      else if (data.type === "message") onMessage(data.message);
      else if (data.type === "typing") onAgentTyping(data.typing);
      else if (data.type === "read") {
        state.agentReadSeq = Math.max(state.agentReadSeq, Number(data.seq) || 0);
        renderReceipts();
      }
    };
    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      clearTimeout(state.watchdog);
      if (event.code === 4404 || event.code === 4401) {
        forget("This chat is no longer available. You can start a new one.");
        return;
      }
      renderReceipts();
      reconnectLater();
    };
  }

  function pet() {  // the server speaks at least every 25 s: silence means a dead connection
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => state.ws && state.ws.close(), 40000);
  }

  function reconnectLater() {
    if (!state.token || state.reconnectTimer) return;
    if (navigator.onLine === false) {
      banner("You are offline. Your messages will be sent when the connection is back.");
      return;
    }
    banner("Connection lost. Reconnecting…");
    const delay = Math.min(15000, 500 * 2 ** state.attempts) * (0.6 + Math.random() * 0.4);
    state.attempts = Math.min(state.attempts + 1, 10);
    state.reconnectTimer = setTimeout(() => {
      state.reconnectTimer = null;
      connect();
    }, delay);
  }

  function disconnect() {
    clearTimeout(state.flushTimer);
    clearTimeout(state.reconnectTimer);
    clearTimeout(state.watchdog);
    state.reconnectTimer = null;
    const ws = state.ws;
    state.ws = null;
    if (ws) ws.close(1000);
  }

  function onMessage(m) {
    if (!accept(m)) return;
    if (m.sender === "agent") {
      hideAgentTyping();
      if (!state.open) {
        state.unread += 1;
        renderBadge();
      }
    }
    scheduleRead();
  }

  function onAgentTyping(typing) {
    clearTimeout(state.agentTypingTimer);
    if (!typing || !state.status || state.status.state === "ended") {
      hideAgentTyping();
      return;
    }
    ui.typing.textContent = `${(state.status && state.status.agent_name) || "The agent"} is typing…`;
    ui.typing.hidden = false;
    state.agentTypingTimer = setTimeout(hideAgentTyping, 8000);  // in case the "stopped" never comes
  }

  function hideAgentTyping() {
    clearTimeout(state.agentTypingTimer);
    ui.typing.hidden = true;
  }

  // ---- the customer writes -----------------------------------------------------------------------
  function onComposerKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.composer.requestSubmit();
    }
  }

  function onComposerInput() {
    ui.composeError.textContent = "";
    if (!ui.text.value.trim()) {
      stopTyping(true);
      return;
    }
    const now = Date.now();
    if (now - state.typingSince > 3000) {
      state.typingSince = now;
      api("POST", "typing", { typing: true }).catch(() => {});
    }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(() => stopTyping(true), 4000);
  }

  function stopTyping(tell) {
    clearTimeout(state.typingTimer);
    if (state.typingSince && tell && state.token) api("POST", "typing", { typing: false }).catch(() => {});
    state.typingSince = 0;
  }

  function onSend(event) {
    event.preventDefault();
    const body = ui.text.value.trim();
    if (!body) return;
    if (body.length > MAX_CHARS) {
      ui.composeError.textContent = `At most ${MAX_CHARS} characters.`;
      return;
    }
    const item = { client_ref: uuid(), body };
    state.outbox.push(item);
    save();
    showPending(item);
    ui.text.value = "";
    stopTyping(true);
    flush();
  }

  function showPending(item) {
    const li = messageItem({ sender: "customer", body: item.body });
    li.classList.add("pending");
    state.pending.set(item.client_ref, li);
    ui.log.append(li);
    renderReceipts();
    scrollDown();
  }

  function failed(item, reason) {
    const li = state.pending.get(item.client_ref);
    if (!li) return;
    li.classList.add("failed");
    li.querySelector(".meta").textContent = `Not sent: ${reason}`;
  }

  async function flush() {
    if (state.flushing || !state.token) return;
    state.flushing = true;
    try {
      while (state.outbox.length) {
        const item = state.outbox[0];
        let result;
        try {
          result = await api("POST", "messages", item);
        } catch (_) {
          renderReceipts();  // "Waiting for connection…": tried again soon, and when the socket is back
          retryFlush(3000);
          if (!state.ws) reconnectLater();
          return;
        }
        if (result.status === 429) {
          await new Promise((resolve) => setTimeout(resolve, (result.retryAfter || 5) * 1000));
          continue;
        }
        if (result.status >= 500) {
          retryFlush(3000);
          return;
        }
        state.outbox.shift();
        save();
        if (result.ok) accept(result.data);
        else if (result.status === 404 || result.status === 401) {
          forget("This chat is no longer available. You can start a new one.");
          return;
        } else failed(item, result.status === 409 ? "the chat has ended." : problem(result));
      }
    } finally {
      state.flushing = false;
    }
  }

  function retryFlush(ms) {
    clearTimeout(state.flushTimer);
    state.flushTimer = setTimeout(flush, ms);
  }

  function scheduleRead() {
    clearTimeout(state.readTimer);
    state.readTimer = setTimeout(() => {
      if (!state.token || !state.open || document.visibilityState !== "visible") return;
      if (state.lastSeq <= state.readSent) return;
      const seq = state.lastSeq;
      api("POST", "read", { seq }).then((r) => { if (r.ok) state.readSent = Math.max(state.readSent, seq); })
        .catch(() => {});
    }, 300);
  }

  // ---- the end, rating, transcript, a new chat ---------------------------------------------------
  function confirmEnd(show) {
    ui.end.hidden = show;
    ui.endConfirm.hidden = !show;
  }

  async function onEnd() {
    confirmEnd(false);
    try {
      const result = await api("POST", "end");
      if (result.ok) applyStatus(result.data);
      else ui.composeError.textContent = problem(result);
    } catch (_) {
      ui.composeError.textContent = "Could not reach the chat service; try again.";
    }
  }

  function pickRating(n) {
    state.rating = n;
    ui.stars.forEach((b, i) => b.setAttribute("aria-pressed", String(i < n)));
    ui.rateSend.disabled = false;
  }

  async function onRate() {
    if (!state.rating) return;
    ui.rateSend.disabled = true;
    ui.rateStatus.textContent = "";
    try {
      const comment = ui.comment.value.trim();
      const result = await api("POST", "rating", { rating: state.rating, comment: comment || null });
      if (result.ok) {
        ui.rating.hidden = true;
        ui.thanks.hidden = false;
        return;
      }
      ui.rateStatus.textContent = problem(result);
    } catch (_) {
      ui.rateStatus.textContent = "Could not send your rating; try again.";
    }
    ui.rateSend.disabled = false;
  }

  async function onTranscript() {
    ui.transcriptSend.disabled = true;
    ui.transcriptStatus.textContent = "Sending…";
    try {
      const result = await api("POST", "transcript");
      if (result.ok) {
        ui.transcriptStatus.textContent = `Sent to ${result.data.sent_to}.`;
        return;
      }
      ui.transcriptStatus.textContent = result.status === 503
        ? "Sorry, transcripts by e-mail are not available here."
        : result.status === 409 && !/ended/.test(problem(result)) ? "The transcript was already sent." : problem(result);
      if (result.status === 503 || result.status >= 500) ui.transcriptSend.disabled = false;
    } catch (_) {
      ui.transcriptStatus.textContent = "Could not reach the chat service; try again.";
      ui.transcriptSend.disabled = false;
    }
  }

  function reset() {
    disconnect();
    state.token = null;
    state.status = null;
    state.outbox = [];
    state.known.clear();
    state.pending.clear();
    state.lastSeq = 0;
    state.agentReadSeq = 0;
    state.readSent = 0;
    state.rating = 0;
    state.endNoted = false;
    state.unread = 0;
    renderBadge();
    ui.log.replaceChildren();
    ui.queue.hidden = true;
    ui.subtitle.textContent = "";
    ui.after.hidden = true;
    ui.composer.hidden = false;
    ui.tools.hidden = false;
    ui.rating.hidden = false;
    ui.thanks.hidden = true;
    ui.comment.value = "";
    ui.stars.forEach((b) => b.setAttribute("aria-pressed", "false"));
    ui.rateSend.disabled = true;
    ui.rateStatus.textContent = "";
    ui.transcriptSend.disabled = false;
    ui.transcriptStatus.textContent = "";
    banner("");
    save();
    showConversation(false);
  }

  function restart() {
    reset();
    ui.name.input.focus();
  }

  function forget(message) {
    reset();
    ui.formError.textContent = message;
  }

  // ---- the browser's own signals -----------------------------------------------------------------
  window.addEventListener("offline", () => {
    if (!state.token) return;
    disconnect();
    renderReceipts();
    banner("You are offline. Your messages will be sent when the connection is back.");
  });
  window.addEventListener("online", () => {
    if (!state.token) return;
    state.attempts = 0;
    connect();
    flush();
  });
  document.addEventListener("visibilitychange", scheduleRead);

  // ---- start -------------------------------------------------------------------------------------
  async function resume() {
    showConversation(true);
    for (const item of state.outbox) showPending(item);
    try {
      const result = await api("GET", "session");
      if (result.status === 404 || result.status === 401) {
        forget("");
        return;
      }
      if (result.ok) applyView(result.data);
    } catch (_) { /* offline: the socket's retries take over */ }
    connect();
    flush();
  }

  (document.body || document.documentElement).append(host);
  setOpen(state.open && Boolean(state.token));
  if (state.token) resume();
})();
