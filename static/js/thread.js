// One conversation's thread: its messages (the newest page first, older pages on scroll up),
// the history's moves as system lines between them, and day separators when it spans days.
import { api, dayKey, dayOf, el, fullTimeOf, linkified, t, timeOf } from "./common.js";

const PAGE = 100;

export class Thread {
  constructor(box, { onOlder = () => {} } = {}) {
    this.box = box;
    this.onOlder = onOlder;
    this.reset(null);
    box.addEventListener("scroll", () => {
      if (this.ready && box.scrollTop < 120) this.loadOlder();
    });
  }

  reset(conversation) {
    this.conversation = conversation;
    this.messages = new Map();
    this.events = [];
    this.hasOlder = false;
    this.loadingOlder = false;
    this.ready = false; // scrolling loads older pages only once the newest is in place
    this.box.replaceChildren();
  }

  // The newest page and the history, together; false if another conversation opened meanwhile.
  async load(conversation) {
    this.reset(conversation);
    const id = conversation.id;
    const [page, events] = await Promise.all([
      api(`conversations/${id}/messages?limit=${PAGE}`),
      api(`conversations/${id}/events`),
    ]);
    if (this.conversation?.id !== id) return false;
    if (page.ok) {
      page.data.forEach((m) => this.messages.set(m.id, m));
      this.hasOlder = page.headers.get("X-Has-Older") === "true";
    }
    if (events.ok) this.events = events.data;
    this.render();
    this.toBottom();
    this.ready = true;
    return true;
  }

  async reloadEvents() {
    const id = this.conversation?.id;
    if (!id) return;
    const events = await api(`conversations/${id}/events`);
    if (events.ok && this.conversation?.id === id) {
      const stick = this.nearBottom();
      this.events = events.data;
      this.render();
      if (stick) this.toBottom();
    }
  }

  async loadOlder() {
    if (!this.hasOlder || this.loadingOlder || !this.conversation) return;
    const id = this.conversation.id;
    const oldest = Math.min(...this.messages.keys());
    this.loadingOlder = true;
    const page = await api(`conversations/${id}/messages?limit=${PAGE}&before=${oldest}`);
    this.loadingOlder = false;
    if (!page.ok || this.conversation?.id !== id) return;
    const before = this.box.scrollHeight;
    page.data.forEach((m) => this.messages.set(m.id, m));
    this.hasOlder = page.headers.get("X-Has-Older") === "true";
    this.render();
    // Keep what the agent was reading where it was.
    this.box.scrollTop += this.box.scrollHeight - before;
    this.onOlder();
  }

  add(message) {
    if (this.messages.has(message.id)) return;
    const stick = this.nearBottom();
    this.messages.set(message.id, message);
    this.render();
    if (stick || message.sender === "agent") this.toBottom();
  }

  nearBottom() {
    return this.box.scrollHeight - this.box.scrollTop - this.box.clientHeight < 80;
  }

  toBottom() {
    this.box.scrollTop = this.box.scrollHeight;
  }

  items() {
    const messages = [...this.messages.values()].sort((a, b) => a.id - b.id);
    // With older pages unread, history before the first loaded message comes with them.
    const from = this.hasOlder && messages.length ? Date.parse(messages[0].created_at) : null;
    const events = this.events.filter((e) => from === null || Date.parse(e.at) >= from);
    const all = [
      ...messages.map((m) => ({ at: m.created_at, time: Date.parse(m.created_at), order: 1, message: m })),
      ...events.map((e) => ({ at: e.at, time: Date.parse(e.at), order: 0, event: e })),
    ];
    return all.sort((a, b) => a.time - b.time || a.order - b.order);
  }

  render() {
    const items = this.items();
    const days = new Set(items.map((i) => dayKey(i.at)));
    const nodes = [];
    if (this.hasOlder) {
      nodes.push(el("li", { class: "older muted", "data-testid": "older-messages" },
        el("button", { type: "button", onclick: () => this.loadOlder(), text: t("older_messages") })));
    }
    let day = null;
    for (const item of items) {
      if (days.size > 1 && dayKey(item.at) !== day) {
        day = dayKey(item.at);
        nodes.push(el("li", { class: "day", "data-testid": "day-separator" },
          el("span", { text: dayOf(item.at) })));
      }
      nodes.push(item.message ? messageItem(item.message, this.conversation) : eventItem(item.event));
    }
    if (!items.length) nodes.push(el("li", { class: "empty muted", text: t("no_messages") }));
    this.box.replaceChildren(...nodes);
  }
}

function messageItem(message, conversation) {
  const who = message.sender === "agent"
    ? message.author?.name || t("agent")
    : conversation?.contact_name || t("contact");
  return el(
    "li",
    { class: `message ${message.sender}`, "data-message": message.id, "data-testid": `message-${message.id}` },
    el("span", { class: "author", "data-testid": "message-author", text: who }),
    el("p", {}, linkified(message.body)),
    el("time", { datetime: message.created_at, title: fullTimeOf(message.created_at), text: timeOf(message.created_at) }),
  );
}

function eventItem(event) {
  return el(
    "li",
    { class: `system ${event.kind}`, "data-testid": "system-line", "data-kind": event.kind },
    el("span", { text: event.reason || t(`kind_${event.kind}`) }),
    el("time", { datetime: event.at, title: fullTimeOf(event.at), text: timeOf(event.at) }),
  );
}
