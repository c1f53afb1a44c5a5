// Shared by the inbox and the supervisor page: the API client, the live socket, texts.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function data(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

const strings = data("strings-data") || {};

// A translated text with %(name)s placeholders filled in.
export function t(key, values = {}) {
  return (strings[key] || key).replace(/%\((\w+)\)s/g, (_, name) => values[name] ?? "");
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

export function toast(message) {
  const box = $(".toasts");
  const item = el("p", { class: "toast", "data-testid": "toast", text: message });
  box.append(item);
  setTimeout(() => item.remove(), 8000);
}

const csrf = () => $('meta[name="csrf-token"]')?.content || "";

// The REST API with the session: {ok, status, data}.
export async function api(path, { method = "GET", body } = {}) {
  const options = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", "X-CSRFToken": csrf() },
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1/${path}`, options);
  } catch (error) {
    return { ok: false, status: 0, data: { detail: t("error") } };
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    payload = null;
  }
  return { ok: response.ok, status: response.status, data: payload };
}

export const results = (payload) => (Array.isArray(payload) ? payload : payload?.results || []);

// The live socket: reconnects by itself, pings as a heartbeat, hands events to onEvent.
export function connectLive(onEvent, { onState = () => {} } = {}) {
  let socket = null;
  let retry = 500;
  let pinger = null;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`;

  function open() {
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      retry = 500;
      onState("open");
      pinger = setInterval(() => send({ type: "ping" }), 25000);
    });
    socket.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      onEvent(event);
    });
    socket.addEventListener("close", () => {
      clearInterval(pinger);
      onState("closed");
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 15000);
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  open();
  return { send };
}

// The online/away switch in the top bar.
export function presenceSwitch(live, initial) {
  const label = $('[data-testid="presence-status"]');
  const dot = $(".presence .dot");
  const button = $('[data-testid="presence-toggle"]');
  let current = initial;
  function show(status) {
    current = status;
    label.textContent = t(status);
    dot.dataset.presence = status;
    button.textContent = status === "away" ? t("go_online") : t("go_away");
  }
  button.addEventListener("click", () => {
    live.send({ type: "presence.set", status: current === "away" ? "online" : "away" });
  });
  show(initial);
  return { show };
}
