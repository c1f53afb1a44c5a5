// The chosen queue's list: one <li> per conversation, kept. A change redraws its own row and
// moves rows only where the order changed; a new queue or search starts the list over.
// Behaviour hooks are data-part / data-id; data-testid is for the tests alone.
import { channelLabel, countdown, el, t, tickWaits } from "../common.js";
import { contactText, statusText, whereText } from "../labels.js";
import { isUnread, OPEN_STATUSES, sorted } from "./store.js";

const REPLY_WARN_SECONDS = 30;

// A reserved conversation's remaining wait (to anyone who sees it), an automatic
// assignment's reply due time (to its assignee only): ticking countdowns (routing.md 8).
export function deadlineNodes(state, c) {
  if (c.status === "reserved" && c.reserved_until) {
    return [countdown(c.reserved_until, "time_left", { class: "deadline reserved-left", "data-testid": "reserved-left", title: t("reserved_title") })];
  }
  if (c.status === "assigned" && c.reply_due_at && c.assignee === state.me.id) {
    return [countdown(c.reply_due_at, "reply_within", {
      class: "deadline reply-due", "data-testid": "reply-due", title: t("reply_due_title"), warnUnder: REPLY_WARN_SECONDS,
    })];
  }
  return [];
}

export function createList(box, { state, onOpen, onMore }) {
  let footer = null; // "no conversations", "loading" or "show more"

  function rowNode(c) {
    const starred = c.preferred_agent
      ? el("span", { class: "star", "data-testid": "star", title: t("preferred_agent_is", { name: c.preferred_agent_name || "" }) },
        "★ ", c.preferred_agent_name || "")
      : null;
    const waitingSince = OPEN_STATUSES.includes(c.status) ? c.queued_at : null;
    const unread = state.queue === "mine" && isUnread(state, c)
      ? el("span", { class: "unread", "data-testid": "unread", title: t("unread") }, el("span", { class: "visually-hidden", text: t("unread") }))
      : null;
    const when = waitingSince
      ? el("span", { class: "waited", "data-testid": "waited", title: t("waiting_for") }, el("span", { "data-since": waitingSince }))
      : el("span", { class: "waited muted", title: t("last_activity") }, el("span", { "data-since": c.last_activity_at }));
    const deadlines = deadlineNodes(state, c);
    const who = deadlines.length && c.status === "reserved" ? whereText(c, { me: state.me.id }) : null;
    const open = state.openId === c.id;
    const node = el(
      "li",
      {
        class: `row${open ? " active" : ""}${unread ? " is-unread" : ""}`,
        "data-part": "row",
        "data-id": c.id,
        "data-testid": `conversation-${c.id}`,
        tabindex: "0",
        role: "button",
        "aria-current": open ? "true" : null,
      },
      el("div", { class: "row-top" }, unread, el("strong", { class: "name", text: contactText(c) }), starred),
      el("div", { class: "row-meta" },
        el("span", { class: "channel", "data-testid": "channel", text: channelLabel(c.channel) }),
        state.queue === "search" ? el("span", { class: "muted", text: statusText(c.status) }) : null,
        when),
      deadlines.length ? el("p", { class: "row-deadline" }, who, who ? " · " : null, ...deadlines) : null,
      el("p", { class: "muted preview", text: c.last_message?.body || "" }),
    );
    tickWaits(node);
    return node;
  }

  const nodeOf = (id) => box.querySelector(`:scope > [data-part="row"][data-id="${id}"]`);

  function footerNode(count) {
    if (state.loading) return el("li", { class: "loading muted", "data-part": "footer", "data-testid": "list-loading", text: t("loading") });
    if (state.more && count) {
      return el("li", { class: "more", "data-part": "footer" },
        el("button", { type: "button", "data-part": "load-more", "data-testid": "load-more", text: t("load_more") }));
    }
    if (!count && !state.more) return el("li", { class: "empty muted", "data-part": "footer", text: t("no_conversations") });
    return null;
  }

  // Rows in order, each node kept unless it changed (``ids``: the conversations that did;
  // null: none, only the order or the footer).
  function update(ids = null) {
    for (const node of box.querySelectorAll(':scope > [data-part="row"]')) {
      if (!state.rows.has(Number(node.dataset.id))) node.remove();
    }
    const rows = sorted(state);
    let previous = null;
    for (const c of rows) {
      let node = nodeOf(c.id);
      if (!node || (ids && ids.includes(c.id))) {
        const fresh = rowNode(c);
        if (node) node.replaceWith(fresh);
        node = fresh;
      }
      const expected = previous ? previous.nextSibling : box.firstChild;
      if (expected !== node) box.insertBefore(node, expected);
      previous = node;
    }
    footer?.remove();
    footer = footerNode(rows.length);
    if (footer) box.append(footer);
  }

  function reset() {
    box.replaceChildren();
    footer = null;
    update();
    box.scrollTop = 0;
  }

  // The open conversation's row is marked; the one before is not any more.
  function opened(previousId, id) {
    for (const [rowId, active] of [[previousId, false], [id, true]]) {
      const node = rowId === null ? null : nodeOf(rowId);
      if (!node) continue;
      node.classList.toggle("active", active);
      if (active) node.setAttribute("aria-current", "true");
      else node.removeAttribute("aria-current");
    }
  }

  // Keep loading while the list does not fill its box (or is scrolled near its end).
  function fillViewport() {
    if (state.more && !state.loading && box.scrollHeight - box.scrollTop - box.clientHeight < 300) onMore();
  }

  box.addEventListener("scroll", fillViewport);
  box.addEventListener("click", (event) => {
    if (event.target.closest('[data-part="load-more"]')) return onMore();
    const row = event.target.closest('[data-part="row"]');
    if (row) onOpen(Number(row.dataset.id));
  });
  box.addEventListener("keydown", (event) => {
    const row = event.target.closest('[data-part="row"]');
    if (row && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      onOpen(Number(row.dataset.id));
    }
  });

  return { update, reset, opened, fillViewport, row: (id) => update([id]) };
}
