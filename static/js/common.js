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

const TOAST_MS = 6000; // long enough to read a line; errors stay a little longer
const TOASTS_AT_ONCE = 3; // the oldest goes when a fourth comes

// A short message in its strip under the top bar (it never covers the page); with onClick
// it is a button (e.g. "open it").
export function toast(message, { onClick = null, kind = "" } = {}) {
  const box = $('[data-part="toasts"]');
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
  while (box.children.length > TOASTS_AT_ONCE) box.firstElementChild.remove();
  setTimeout(() => item.remove(), kind === "error" ? TOAST_MS + 3000 : TOAST_MS);
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

// Close codes the server uses (apps/inbox/access.py, consumers.py; api.md "Limits and
// refusals"): the session or token is gone, the access changed, too many sockets or messages.
export const CLOSE_SIGNED_OUT = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_TOO_MANY = 4429;
const RELOADED_KEY = "atende.reloaded-for-access";
const RELOAD_MEMORY_MS = 60000; // a second 4403 this soon after reloading for one: stop
const SIGN_IN_DELAY_MS = 2500; // long enough to read why the page goes away
const BACKOFF_BASE_MS = 5000; // 4429: the first wait, doubled each time, with jitter
const BACKOFF_CAP_MS = 5 * 60000;

// The wait before attempt ``n`` (0, 1, ...) after a refusal for too many: exponential,
// capped, and with "equal jitter" (half fixed, half random) so that many tabs refused at
// once do not come back at once.
export function backoffDelay(n, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** n);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function signInUrl() {
  const login = $('meta[name="login-url"]')?.content || "/accounts/login/";
  return `${login}?${new URLSearchParams({ next: location.pathname + location.search + location.hash })}`;
}

// Reconnects by itself, pings as a heartbeat, hands events to onEvent. While it is closed the
// page shows the banner saying that what it shows may be out of date. What the server's close
// code says is followed: signed out (4401) goes to the sign-in page, a changed access (4403)
// reloads the page once, too many (4429) waits longer and longer before trying again.
export function connectLive(onEvent, { onState = () => {} } = {}) {
  let socket = null;
  let retry = 500;
  let refusals = 0; // 4429s in a row
  let pinger = null;
  let refusalTicker = null; // counts the 4429 wait down in the banner
  let everOpen = false;
  let stopped = false;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/inbox/`;
  const banner = $('[data-part="connection-banner"]');
  const title = banner && $('[data-part="connection-title"]', banner);
  const detail = banner && $('[data-part="connection-detail"]', banner);
  const defaults = { title: title?.textContent || "", detail: detail?.textContent || "" };

  function say(kind, heading, text) {
    if (!banner) return;
    banner.dataset.kind = kind;
    if (title) title.textContent = heading;
    if (detail) detail.textContent = text;
  }

  function showState(open) {
    if (banner) banner.hidden = open;
    document.body.classList.toggle("offline-socket", !open);
  }

  function stop(state) {
    stopped = true;
    showState(false);
    onState(state);
  }

  function signedOut() {
    say("signed-out", t("session_ended"), t("session_ended_detail"));
    stop("signed-out");
    setTimeout(() => location.assign(signInUrl()), SIGN_IN_DELAY_MS);
  }

  function accessChanged() {
    let last = 0;
    try {
      last = Number(sessionStorage.getItem(RELOADED_KEY)) || 0;
    } catch (error) {
      last = 0;
    }
    if (Date.now() - last < RELOAD_MEMORY_MS) {
      // Reloaded for this a moment ago and refused again: do not loop.
      say("forbidden", t("access_changed"), t("access_changed_again"));
      stop("forbidden");
      return;
    }
    say("forbidden", t("access_changed"), t("access_changed_detail"));
    stop("forbidden");
    try {
      sessionStorage.setItem(RELOADED_KEY, String(Date.now()));
    } catch (error) {
      // No storage: reload all the same (once: the page goes away).
    }
    setTimeout(() => location.reload(), SIGN_IN_DELAY_MS);
  }

  function tooMany() {
    const wait = backoffDelay(refusals);
    refusals += 1;
    const due = Date.now() + wait;
    const tell = () => say("too-many", t("too_many_connections"), t("too_many_connections_detail", {
      n: Math.max(0, Math.ceil((due - Date.now()) / 1000)),
    }));
    tell();
    clearInterval(refusalTicker);
    refusalTicker = setInterval(tell, 1000);
    showState(false);
    onState("refused");
    setTimeout(() => {
      clearInterval(refusalTicker);
      open();
    }, wait);
  }

  // A socket refused at the handshake gets no code of ours (the server refuses a socket
  // without a person before accepting it): ask the API whether the session is still there.
  async function stillSignedIn() {
    const answer = await api("me/");
    if (answer.status === 401 && !stopped) signedOut();
  }

  function open() {
    if (stopped) return;
    let opened = false;
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      opened = true;
      retry = 500;
      refusals = 0;
      everOpen = true;
      say("", defaults.title, defaults.detail);
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
      // Refused for too many sockets, or while live updates are paused (closed with 1013,
      // then opened again): the banner says it in the page's language.
      if (event.type === "error" && ["too_many_sockets", "live_unavailable"].includes(event.code)) return;
      // The server cannot push for a while (Redis is away): the socket stays open.
      if (event.type === "live.paused") {
        say("paused", t("live_paused"), t("live_paused_detail"));
        if (banner) banner.hidden = false;
        onState("paused");
        return;
      }
      // Back: what changed meanwhile was not pushed, so everything is loaded again.
      if (event.type === "live.resumed") {
        say("", defaults.title, defaults.detail);
        showState(true);
        onState("open");
        return;
      }
      onEvent(event);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      if (stopped) return;
      if (event.code === CLOSE_SIGNED_OUT) return signedOut();
      if (event.code === CLOSE_FORBIDDEN) return accessChanged();
      if (event.code === CLOSE_TOO_MANY) return tooMany();
      if (!opened) stillSignedIn();
      // The first attempt failing is also a lost connection: say so.
      say("", defaults.title, defaults.detail);
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
  const label = $('[data-part="presence-status"]');
  const dot = $(".presence .dot");
  const button = $('[data-part="presence-toggle"]');
  let current = initial;
  let connected = true;
  let shown = 0; // bumped by every presence the server pushes
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
      shown += 1;
      current = status;
      render();
    },
    // Presence as the server has it now (on every (re)connection). An answer that crossed
    // a pushed presence.changed on the way is older than it: the push wins.
    async refresh() {
      const asked = shown;
      const answer = await api("me/presence");
      if (answer.ok && shown === asked) this.show(answer.data.status);
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
  const dialog = $('[data-part="confirm-dialog"]');
  $('[data-part="confirm-text"]', dialog).textContent = message;
  $('[data-part="confirm-ok"]', dialog).textContent = ok;
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    $('[data-part="confirm-cancel"]', dialog).focus();
  });
}

export const isPhone = () => window.matchMedia("(max-width: 800px)").matches;

// ------------------------------------------------------------------ times

const timeFormat = new Intl.DateTimeFormat(LANG, { hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(LANG, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
const shortDayFormat = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", year: "numeric" });
const fullFormat = new Intl.DateTimeFormat(LANG, { dateStyle: "medium", timeStyle: "medium" });

// When a closed team opens: "Mon 08:00" within the week, "12 Jan, 08:00" beyond it, in the
// browser's time zone and the page's language.
const weekdayTimeFormat = new Intl.DateTimeFormat(LANG, { weekday: "short", hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
export function whenText(iso, now = Date.now()) {
  const at = new Date(iso);
  return (at.getTime() - now < 6 * 86400000 ? weekdayTimeFormat : dateTimeFormat).format(at);
}

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
  return durationText(Math.floor((now - new Date(iso).getTime()) / 1000));
}

// A number of seconds, compactly, as waitedText writes it.
export function durationText(total) {
  const seconds = Math.max(0, Math.floor(total));
  if (seconds < 60) return t("wait_seconds", { n: seconds });
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t("wait_minutes", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t("wait_hours", { h: hours, m: String(minutes % 60).padStart(2, "0") });
  return t("wait_days", { d: Math.floor(hours / 24), h: hours % 24 });
}

// A countdown as a clock: "2:31", "1:05:09"; never below "0:00".
export function clockText(total) {
  const seconds = Math.max(0, Math.ceil(total));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

// A countdown to ``iso``: an element whose text is the string ``key`` with %(time)s left,
// ticking with the others; with ``warnUnder`` (seconds) it takes the class "soon" when less
// is left.
export function countdown(iso, key, { warnUnder = null, ...attrs } = {}) {
  const node = el("span", { ...attrs, "data-until": iso, "data-text": key, "data-warn": warnUnder });
  tickCountdown(node, Date.now());
  return node;
}

function tickCountdown(node, now) {
  const left = (Date.parse(node.dataset.until) - now) / 1000;
  node.textContent = t(node.dataset.text, { time: clockText(left) });
  const warn = node.dataset.warn ? Number(node.dataset.warn) : null;
  node.classList.toggle("soon", warn !== null && left < warn);
  node.classList.toggle("over", left <= 0);
}

// Every [data-since] element shows how long ago its time was and every labelled countdown
// ([data-until][data-text], made by countdown()) how long is left, updated each second.
export function tickWaits(root = document) {
  const now = Date.now();
  for (const node of $$("[data-since]", root)) node.textContent = waitedText(node.dataset.since, now);
  for (const node of $$("[data-until][data-text]", root)) tickCountdown(node, now);
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

// Why choosing ``agent`` needs a second thought (away or offline, and at their limit: every
// reason that holds), or null.
export function agentWarning(agent) {
  const name = agentName(agent);
  const reasons = [];
  if (agent.presence === "away") reasons.push(t("agent_away", { name }));
  else if (agent.presence !== "online") reasons.push(t("agent_offline", { name }));
  if (agent.open_count >= agent.capacity) {
    reasons.push(t("agent_full", { name, load: agent.open_count, capacity: agent.capacity }));
  }
  return reasons.length ? reasons.join(" ") : null;
}

export function channelLabel(channel) {
  const label = t(`channel_${channel}`);
  return label === `channel_${channel}` ? channel : label;
}

export function agentName(agent) {
  return agent.name || agent.username;
}
