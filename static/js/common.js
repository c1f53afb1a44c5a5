// Shared by the inbox and the supervisor page: the API client, the live socket, texts, times,
// confirmations. Everything that shows user text builds DOM nodes (textContent), never HTML.

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

export function data(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

const strings = data("strings-data") || {};
export const LANG = document.documentElement.lang || "en";

// A translated text (apps/inbox/views.py page_strings) with %(name)s placeholders filled in.
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
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

// A short message in the corner; with onClick it is a button (e.g. "open it").
export function toast(message, { onClick = null, kind = "" } = {}) {
  const box = $(".toasts");
  const item = onClick
    ? el("button", { type: "button", class: `toast ${kind}`, "data-testid": "toast", text: message })
    : el("p", { class: `toast ${kind}`, "data-testid": "toast", text: message });
  if (onClick) {
    item.addEventListener("click", () => {
      item.remove();
      onClick();
    });
  }
  box.append(item);
  setTimeout(() => item.remove(), 10000);
  return item;
}

const csrf = () => $('meta[name="csrf-token"]')?.content || "";

// The REST API with the session: {ok, status, data, headers}.
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
    return { ok: false, status: 0, data: { detail: t("network_error") }, headers: new Headers() };
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    payload = null;
  }
  return { ok: response.ok, status: response.status, data: payload, headers: response.headers };
}

export const results = (payload) => (Array.isArray(payload) ? payload : payload?.results || []);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(key, value);
  }
  return search.toString();
}

// ------------------------------------------------------------------ the live socket

// Reconnects by itself, pings as a heartbeat, hands events to onEvent. While it is closed the
// page shows the banner saying that what it shows may be out of date.
export function connectLive(onEvent, { onState = () => {} } = {}) {
  let socket = null;
  let retry = 500;
  let pinger = null;
  let everOpen = false;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`;
  const banner = $('[data-testid="connection-banner"]');

  function showState(open) {
    if (banner) banner.hidden = open;
    document.body.classList.toggle("offline-socket", !open);
  }

  function open() {
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      retry = 500;
      everOpen = true;
      showState(true);
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
      // The first attempt failing is also a lost connection: say so.
      showState(false);
      onState(everOpen ? "closed" : "connecting");
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 8000);
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  open();
  return { send };
}

// The online/away switch in the top bar. While the socket is down it says "reconnecting":
// the server may already see the agent differently.
export function presenceSwitch(live, initial) {
  const label = $('[data-testid="presence-status"]');
  const dot = $(".presence .dot");
  const button = $('[data-testid="presence-toggle"]');
  let current = initial;
  let connected = true;
  function render() {
    if (!connected) {
      label.textContent = t("reconnecting");
      dot.dataset.presence = "reconnecting";
      button.disabled = true;
      return;
    }
    label.textContent = t(current);
    dot.dataset.presence = current;
    button.disabled = false;
    button.textContent = current === "away" ? t("go_online") : t("go_away");
  }
  button.addEventListener("click", () => {
    live.send({ type: "presence.set", status: current === "away" ? "online" : "away" });
  });
  render();
  return {
    show(status) {
      current = status;
      render();
    },
    connected(open) {
      connected = open;
      render();
    },
  };
}

// ------------------------------------------------------------------ confirmations

// A question with "yes"/"cancel" in the page's own dialog; resolves to true or false.
export function confirmDialog(message, { ok = t("confirm_ok") } = {}) {
  const dialog = $('[data-testid="confirm-dialog"]');
  $('[data-testid="confirm-text"]', dialog).textContent = message;
  $('[data-testid="confirm-ok"]', dialog).textContent = ok;
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    $('[data-testid="confirm-cancel"]', dialog).focus();
  });
}

export const isPhone = () => window.matchMedia("(max-width: 800px)").matches;

// ------------------------------------------------------------------ times

const timeFormat = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(LANG, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const shortDayFormat = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", year: "numeric" });
const fullFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "medium", timeStyle: "medium" });

export const timeOf = (iso) => timeFormat.format(new Date(iso));
export const dayOf = (iso) => dayFormat.format(new Date(iso));
export const shortDayOf = (iso) => shortDayFormat.format(new Date(iso));
export const fullTimeOf = (iso) => fullFormat.format(new Date(iso));
export const dayKey = (iso) => {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
};

// How long since ``iso``, compactly: "45 s", "12 min", "1 h 05 min", "2 d 3 h".
export function waitedText(iso, now = Date.now()) {
  const seconds = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (seconds < 60) return t("wait_seconds", { n: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t("wait_minutes", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t("wait_hours", { h: hours, m: String(minutes % 60).padStart(2, "0") });
  return t("wait_days", { d: Math.floor(hours / 24), h: hours % 24 });
}

// Every [data-since] element shows how long ago its time was, updated each second.
export function tickWaits(root = document) {
  const now = Date.now();
  for (const node of $$("[data-since]", root)) node.textContent = waitedText(node.dataset.since, now);
}
export function startTicking() {
  tickWaits();
  setInterval(tickWaits, 1000);
}

// ------------------------------------------------------------------ text with links

const LINK = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;

// Plain text with its http(s) links as anchors: text nodes and <a> elements, never HTML.
export function linkified(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    let url = match[0];
    const trailing = url.match(TRAILING);
    if (trailing) url = url.slice(0, -trailing[0].length);
    if (match.index > last) fragment.append(text.slice(last, match.index));
    fragment.append(el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text: url }));
    last = match.index + url.length;
  }
  if (last < text.length) fragment.append(text.slice(last));
  return fragment;
}

export function presenceText(agent) {
  return `${t(agent.presence)} · ${agent.open_count}/${agent.capacity}`;
}

// Why choosing ``agent`` needs a second thought (away, offline, full), or null.
export function agentWarning(agent) {
  const name = agentName(agent);
  if (agent.presence === "away") return t("agent_away", { name });
  if (agent.presence !== "online") return t("agent_offline", { name });
  if (agent.open_count >= agent.capacity) {
    return t("agent_full", { name, load: agent.open_count, capacity: agent.capacity });
  }
  return null;
}

export function channelLabel(channel) {
  const label = t(`channel_${channel}`);
  return label === `channel_${channel}` ? channel : label;
}

export function agentName(agent) {
  return agent.name || agent.username;
}
