// Atende's web chat window, embedded in any allowed site by /webchat.js (one script tag).
// It lives in a shadow root (the site's styles do not reach it, nor its styles the site),
// talks to Atende over one websocket, and renders everything as text (never HTML).
import { initialState, opened, reduce, startsConversation, statusLines } from "./store.js";

const RETRY_SECONDS = [1, 2, 5, 10, 30];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

function browserLanguage(tag) {
  const given = tag.dataset.lang || navigator.language || "en";
  return given.toLowerCase().startsWith("pt") ? "pt-br" : "en";
}

class Chat {
  constructor(tag, base) {
    this.key = tag.dataset.key;
    this.base = base;
    this.identity = tag.dataset.externalId
      ? { externalId: tag.dataset.externalId, name: tag.dataset.name || "", email: tag.dataset.email || "",
          hash: tag.dataset.hash || "" }
      : null;
    this.state = { ...initialState(), language: browserLanguage(tag) };
    this.storageKey = `atende-chat:${this.key}`;
    this.attempt = 0;
    this.requests = 0;
    this.host = el("div", { id: "atende-chat", "data-atende-chat": this.key });
    this.root = this.host.attachShadow({ mode: "open" });
    this.root.append(el("link", { rel: "stylesheet", href: new URL("../../css/webchat.css", import.meta.url).href }));
    document.body.append(this.host);
    this.connect();
  }

  t(key, values = {}) {
    const strings = (this.state.config && this.state.config.strings) || {};
    return fill(strings[key] || key, values);
  }

  // ------------------------------------------------------------------- the socket

  connect() {
    const url = new URL(`/webchat/${encodeURIComponent(this.key)}/ws`, this.base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("lang", this.state.language);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("message", (event) => this.receive(JSON.parse(event.data)));
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.dispatch({ type: "disconnected" });
      if (this.state.refused) return; // a refusal is not fixed by trying again
      const wait = RETRY_SECONDS[Math.min(this.attempt, RETRY_SECONDS.length - 1)];
      this.attempt += 1;
      setTimeout(() => this.connect(), wait * 1000);
    });
  }

  send(content) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(content));
  }

  receive(event) {
    if (event.type === "refused") console.warn(`Atende chat: ${event.detail}`);
    if (event.type === "welcome") {
      this.attempt = 0;
      this.send({ type: "hello", visitor: this.visitor(), identity: this.identity, language: this.state.language });
    }
    if (event.type === "session" && event.visitor) {
      try { localStorage.setItem(this.storageKey, event.visitor); } catch { /* private mode */ }
    }
    this.dispatch(event);
  }

  visitor() {
    try { return localStorage.getItem(this.storageKey); } catch { return null; }
  }

  dispatch(event) {
    const before = this.state;
    this.state = reduce(this.state, event);
    this.render(before, event);
  }

  // ------------------------------------------------------------------- what the customer does

  identify(identity) {
    this.identity = identity ? { ...identity } : null;
    if (this.identity) this.send({ type: "identify", identity: this.identity });
  }

  toggle(open) {
    this.state = opened(this.state, open);
    this.renderFrame();
    if (open) (this.root.querySelector("textarea") || this.panel).focus();
    else this.launcher.focus();
  }

  submit(form) {
    const body = form.elements.body.value;
    if (!body.trim()) return;
    const request = `r${++this.requests}`;
    const content = { type: "send", id: request, body };
    if (startsConversation(this.state)) {
      const choice = form.querySelector("input[name=choice]:checked");
      if (choice) content.choice = Number(choice.value);
      if (form.elements.name) content.name = form.elements.name.value;
      if (form.elements.email) content.email = form.elements.email.value;
    }
    this.state = { ...this.state, pending: [...this.state.pending, { request, body }] };
    this.send(content);
    form.elements.body.value = "";
  }

  rate(form) {
    const score = form.querySelector("[aria-pressed=true]");
    if (!score) return;
    this.send({ type: "rate", conversation: this.state.view.conversation, score: Number(score.dataset.score),
                comment: form.elements.comment.value });
  }

  // ------------------------------------------------------------------- rendering

  render(before, event) {
    if (this.state.refused || !this.state.config) {
      if (this.frame) this.frame.hidden = true;
      return;
    }
    if (!this.frame) this.build();
    this.renderFrame();
    this.renderStatus();
    if (event.type === "message" || event.type === "sent") this.appendNew(before);
    else if (event.type === "state" || event.type === "status") this.renderMessages();
    if (event.type !== "message") this.renderComposer(before);
  }

  build() {
    const config = this.state.config;
    this.host.style.setProperty("--atende-color", config.color || "#0f766e");
    this.launcher = el("button", { type: "button", class: "launcher", "data-chat": "launcher",
                                    "aria-expanded": "false", "aria-controls": "atende-panel",
                                    onclick: () => this.toggle(!this.state.open) });
    this.panel = el("section", { id: "atende-panel", class: "panel", role: "dialog", tabindex: "-1",
                                  "aria-label": config.name, "data-chat": "panel", hidden: true,
                                  lang: this.state.language === "pt-br" ? "pt-BR" : "en" });
    this.panel.addEventListener("keydown", (event) => { if (event.key === "Escape") this.toggle(false); });
    const header = el("header", {},
      el("h2", { text: config.name }),
      el("button", { type: "button", class: "close", "aria-label": this.t("close"), text: "×",
                     "data-chat": "close", onclick: () => this.toggle(false) }));
    this.statusLine = el("div", { class: "status", role: "status", "aria-live": "polite", "data-chat": "status" });
    this.list = el("ol", { class: "messages", "aria-label": this.t("conversation"), "aria-live": "polite",
                           "aria-relevant": "additions", "data-chat": "messages" });
    this.notice = el("p", { class: "notice", role: "alert", "data-chat": "error", hidden: true });
    this.lower = el("div", { class: "lower" });
    this.panel.append(header, this.statusLine, this.list, this.notice, this.lower);
    this.frame = el("div", { class: "frame" }, this.panel, this.launcher);
    this.root.append(this.frame);
  }

  renderFrame() {
    if (!this.frame) return;
    this.frame.hidden = false;
    this.panel.hidden = !this.state.open;
    this.launcher.setAttribute("aria-expanded", String(this.state.open));
    this.launcher.replaceChildren(el("span", { text: this.state.open ? this.t("close") : this.t("open") }));
    if (this.state.unread && !this.state.open) {
      this.launcher.append(el("span", { class: "badge", "data-chat": "unread", text: String(this.state.unread),
                                        "aria-label": this.t("unread", { count: this.state.unread }) }));
    }
  }

  when(iso) {
    const locale = this.state.language === "pt-br" ? "pt-BR" : "en";
    return new Intl.DateTimeFormat(locale, { weekday: "long", hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
  }

  renderStatus() {
    const lines = statusLines(this.state).map(([key, values]) => {
      const shown = { ...values };
      if (shown.when) shown.when = this.when(shown.when);
      return el("p", { "data-chat": `status-${key}`, text: this.t(key, shown) });
    });
    if (!this.state.connected && this.state.session) {
      lines.unshift(el("p", { class: "offline", text: this.t("reconnecting") }));
    }
    this.statusLine.replaceChildren(...lines);
    this.statusLine.hidden = lines.length === 0;
    this.notice.hidden = !this.state.error;
    this.notice.textContent = this.state.error || "";
  }

  messageItem(message) {
    const mine = message.from === "me";
    return el("li", { class: mine ? "me" : "agent", "data-chat": "message", "data-from": message.from },
      el("span", { class: "who", text: mine ? this.t("you") : message.agent || "" }),
      el("p", { class: "body", text: message.body }));
  }

  renderMessages() {
    const items = [];
    if (this.state.config.greeting) {
      items.push(el("li", { class: "greeting", "aria-hidden": "true", text: this.state.config.greeting }));
    }
    items.push(...this.state.messages.map((m) => this.messageItem(m)));
    this.list.replaceChildren(...items);
    this.list.scrollTop = this.list.scrollHeight;
  }

  appendNew(before) {
    const known = new Set(before.messages.map((m) => m.id));
    for (const message of this.state.messages) {
      if (!known.has(message.id)) this.list.append(this.messageItem(message));
    }
    this.list.scrollTop = this.list.scrollHeight;
    this.renderFrame();
  }

  renderComposer(before) {
    const view = this.state.view;
    const rating = view && view.status === "closed" && (view.can_rate || view.rating);
    const starting = startsConversation(this.state);
    const key = `${rating ? "rate" : "write"}:${starting}:${view && view.can_rate}:${this.state.session?.identified}`;
    if (this.composerKey === key && before.view && before.config) return;
    this.composerKey = key;
    const focused = this.root.activeElement;
    const hadFocus = focused && this.lower.contains(focused);
    const parts = [];
    if (rating) parts.push(this.ratingForm(view));
    parts.push(this.writeForm(starting));
    this.lower.replaceChildren(...parts);
    // The focus stays in the window when what held it is replaced.
    if (hadFocus) (focused.name === "body" ? this.root.querySelector("textarea[name=body]") : this.lower.querySelector("[data-chat=rated]") || this.panel).focus();
  }

  writeForm(starting) {
    const form = el("form", { class: "compose", "data-chat": "compose",
                              onsubmit: (e) => { e.preventDefault(); this.submit(form); } });
    const teams = this.state.config.teams || [];
    if (starting && teams.length) {
      const fieldset = el("fieldset", { class: "choices", "data-chat": "choices" }, el("legend", { text: this.t("choose") }));
      teams.forEach((team, index) => {
        const closed = team.team_open === false
          ? ` (${team.team_opens_at ? this.t("team_closed_choice", { when: this.when(team.team_opens_at) }) : this.t("team_closed_choice_plain")})`
          : "";
        fieldset.append(el("label", {},
          el("input", { type: "radio", name: "choice", value: String(index), checked: index === 0 }),
          el("span", { text: team.label + closed })));
      });
      form.append(fieldset);
    }
    if (starting && !this.state.session?.identified && !this.state.messages.length) {
      form.append(
        el("label", { class: "field" }, el("span", { text: this.t("name") }),
           el("input", { name: "name", autocomplete: "name", maxlength: "255" })),
        el("label", { class: "field" }, el("span", { text: this.t("email") }),
           el("input", { name: "email", type: "email", autocomplete: "email", maxlength: "255" })));
    }
    const text = el("textarea", { name: "body", rows: "2", placeholder: this.t("placeholder"), "aria-label": this.t("message"),
                                  maxlength: String(this.state.config.max_message_chars || 4000), "data-chat": "body" });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); this.submit(form); }
    });
    form.append(el("div", { class: "row" }, text,
      el("button", { type: "submit", class: "send", "data-chat": "send", text: this.t("send") })));
    return form;
  }

  ratingForm(view) {
    if (view.rating) return el("p", { class: "rated", "data-chat": "rated", tabindex: "-1", text: this.t("rated") });
    const form = el("form", { class: "rating", "data-chat": "rating", onsubmit: (e) => { e.preventDefault(); this.rate(form); } });
    const scores = el("div", { class: "scores", role: "group", "aria-label": this.t("rate_question") });
    for (let score = 1; score <= 5; score += 1) {
      scores.append(el("button", { type: "button", "data-score": String(score), "aria-pressed": "false",
                                   "aria-label": this.t("rate_score", { score }), text: String(score),
                                   onclick: (e) => {
                                     scores.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", "false"));
                                     e.currentTarget.setAttribute("aria-pressed", "true");
                                   } }));
    }
    form.append(el("p", { class: "question", text: this.t("rate_question") }), scores,
      el("label", { class: "field" }, el("span", { text: this.t("comment") }),
         el("textarea", { name: "comment", rows: "2", maxlength: "2000" })),
      el("button", { type: "submit", class: "send", "data-chat": "rate-send", text: this.t("rate_send") }));
    return form;
  }
}

export function start(tag, base) {
  if (window.AtendeChat) return;
  const chat = new Chat(tag, base);
  window.AtendeChat = {
    identify: (identity) => chat.identify(identity),
    open: () => chat.toggle(true),
    close: () => chat.toggle(false),
    state: () => chat.state,
  };
}
