// A WebSocket to /api/v1/ws that reconnects with backoff; the session cookie authenticates it.
// Returns { send(obj) }: what is sent while the socket is down goes out once it is up again, and
// `onOpen` runs at every (re)connection (to renew watches, catch up on messages).
export function connect(onMessage, statusEl, onOpen) {
  let delay = 500, ws = null;
  const backlog = [];
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    ws.onopen = () => {
      delay = 500; statusEl.textContent = "live"; statusEl.classList.add("live");
      if (onOpen) onOpen();
      while (backlog.length) ws.send(backlog.shift());
    };
    ws.onmessage = (m) => onMessage(JSON.parse(m.data));
    ws.onclose = () => {
      statusEl.textContent = "reconnecting…"; statusEl.classList.remove("live");
      setTimeout(open, delay); delay = Math.min(delay * 2, 10000);
    };
  };
  open();
  return {
    send(obj) {
      const text = JSON.stringify(obj);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text); else backlog.push(text);
    },
  };
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60), r = s % 60;
  if (m < 60) return `${m}m ${String(r).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}
