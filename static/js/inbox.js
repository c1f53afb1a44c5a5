// The agent's inbox: queues with live counts, the chosen queue's list, one conversation.
import { $, $$, api, connectLive, data, el, presenceSwitch, results, t, toast } from "./common.js";

const me = data("me-data");
const state = {
  queue: "waiting",
  conversations: new Map(), // id -> conversation object (the chosen queue's rows)
  openId: null,
  open: null,
};

const list = $('[data-testid="conversation-list"]');
const inbox = $(".inbox");

// ------------------------------------------------------------------ queues and counts

function queueTitle(queue) {
  const button = $(`[data-queue="${queue}"] span`);
  return button ? button.textContent : "";
}

function belongs(conversation, queue) {
  if (queue === "waiting") return conversation.status === "waiting";
  if (queue === "mine") return conversation.status === "assigned" && conversation.assignee === me.id;
  if (queue === "reserved") {
    return conversation.status === "reserved" && conversation.preferred_agent === me.id;
  }
  const team = Number(queue.split(":")[1]);
  return conversation.status === "queued" && conversation.team === team;
}

function listQuery(queue) {
  if (queue === "waiting") return "status=waiting";
  if (queue === "mine") return `status=assigned&assignee=${me.id}`;
  if (queue === "reserved") return "status=reserved";
  return `status=queued&team=${queue.split(":")[1]}`;
}

function showCounts(counts) {
  $('[data-testid="count-waiting"]').textContent = counts.waiting;
  $('[data-testid="count-mine"]').textContent = counts.mine;
  $('[data-testid="count-reserved"]').textContent = counts.reserved_for_me;
  const box = $('[data-testid="team-queues"]');
  const known = new Set();
  for (const team of counts.teams) {
    known.add(`team:${team.id}`);
    let button = $(`[data-queue="team:${team.id}"]`, box);
    if (!button) {
      $("p.muted", box)?.remove();
      button = el(
        "button",
        { type: "button", class: "queue", "data-queue": `team:${team.id}`, "data-testid": `queue-team-${team.id}` },
        el("span", { text: team.name }),
        el("span", { class: "count", "data-testid": `count-team-${team.id}` }),
      );
      button.addEventListener("click", () => chooseQueue(`team:${team.id}`));
      box.append(button);
    }
    $(".count", button).textContent = team.queued;
  }
}

async function chooseQueue(queue, { reveal = true } = {}) {
  state.queue = queue;
  $$(".queue").forEach((b) => b.classList.toggle("active", b.dataset.queue === queue));
  $('[data-testid="list-title"]').textContent = queueTitle(queue);
  if (reveal) inbox.dataset.view = "list";
  state.conversations.clear();
  renderList();
  const { ok, data: payload } = await api(`conversations/?${listQuery(queue)}`);
  if (!ok || state.queue !== queue) return;
  for (const conversation of results(payload)) {
    if (belongs(conversation, queue)) state.conversations.set(conversation.id, conversation);
  }
  renderList();
}

// ------------------------------------------------------------------ the list

function sorted() {
  // The current user's starred conversations first, then newest activity first.
  const activity = (c) => c.last_activity_at || c.last_message?.created_at || c.updated_at;
  return [...state.conversations.values()].sort((a, b) => {
    const starA = a.preferred_agent === me.id ? 0 : 1;
    const starB = b.preferred_agent === me.id ? 0 : 1;
    if (starA !== starB) return starA - starB;
    return activity(a) < activity(b) ? 1 : -1;
  });
}

function row(conversation) {
  const star = conversation.preferred_agent
    ? el("span", { class: "star", "data-testid": "star", text: `★ ${conversation.preferred_agent_name || ""}` })
    : null;
  return el(
    "li",
    {
      class: `row${conversation.id === state.openId ? " active" : ""}`,
      "data-testid": `conversation-${conversation.id}`,
      tabindex: "0",
      onclick: () => openConversation(conversation.id),
      onkeydown: (e) => e.key === "Enter" && openConversation(conversation.id),
    },
    el("div", { class: "row-top" }, el("strong", { text: conversation.contact_name || `#${conversation.id}` }), star),
    el("p", { class: "muted preview", text: conversation.last_message?.body || "" }),
  );
}

function renderList() {
  const rows = sorted();
  list.replaceChildren(...(rows.length ? rows.map(row) : [el("li", { class: "empty muted", text: t("no_conversations") })]));
}

// ------------------------------------------------------------------ the open conversation

function whereText(c) {
  if (c.status === "closed") return t("closed");
  if (c.status === "assigned") return c.assignee === me.id ? t("assigned_to", { name: t("you") }) : t("taken_by", { name: c.assignee_name });
  if (c.status === "reserved") return t("reserved_for", { name: c.preferred_agent_name });
  if (c.status === "queued") return t("queued_in", { team: c.team_name });
  return t("waiting");
}

function notice(text) {
  const box = $('[data-testid="notice"]');
  box.textContent = text || "";
  box.hidden = !text;
}

function renderPane() {
  const c = state.open;
  if (!c) return;
  $('[data-testid="pane-title"]').textContent = c.contact_name || `#${c.id}`;
  $('[data-testid="conversation-status"]').textContent = whereText(c);
  const mayClaim = ["waiting", "queued", "reserved"].includes(c.status);
  const mayAct = c.status === "assigned" && (c.assignee === me.id || me.is_supervisor);
  $('[data-testid="claim"]').hidden = !mayClaim;
  $('[data-testid="reply-form"]').hidden = !mayAct;
  $('[data-testid="actions"]').hidden = !mayAct;
}

function messageItem(message) {
  return el(
    "li",
    { class: `message ${message.sender}`, "data-message": message.id },
    el("p", { text: message.body }),
    el("time", { datetime: message.created_at, text: new Date(message.created_at).toLocaleTimeString() }),
  );
}

async function openConversation(id) {
  state.openId = id;
  state.open = state.conversations.get(id) || null;
  notice("");
  inbox.dataset.view = "pane";
  renderList();
  $('[data-testid="messages"]').replaceChildren();
  const [detail, messages] = await Promise.all([
    api(`conversations/${id}/`),
    api(`conversations/${id}/messages`),
  ]);
  if (state.openId !== id) return;
  if (detail.ok) state.open = detail.data;
  renderPane();
  if (messages.ok) $('[data-testid="messages"]').replaceChildren(...results(messages.data).map(messageItem));
  scrollMessages();
}

function scrollMessages() {
  const box = $('[data-testid="messages"]');
  box.scrollTop = box.scrollHeight;
}

async function act(path, body) {
  const id = state.openId;
  const { ok, status, data: payload } = await api(`conversations/${id}/${path}`, { method: "POST", body });
  if (ok) {
    if (payload && payload.id === id) {
      state.open = payload;
      upsert(payload);
      renderPane();
    }
    return true;
  }
  if (status === 409 && payload?.assignee) notice(t("taken_by", { name: payload.assignee.name }));
  else notice(payload?.detail || t("error"));
  return false;
}

$('[data-testid="claim"]').addEventListener("click", () => act("claim", {}));
$('[data-testid="close"]').addEventListener("click", () => act("close", {}));
$('[data-testid="transfer"]').addEventListener("click", () => {
  const [kind, target] = $('[data-testid="transfer-target"]').value.split(":");
  act("transfer", { [kind]: Number(target) });
});
$('[data-testid="reply-form"]').addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $('[data-testid="reply-input"]');
  const body = input.value;
  if (!body.trim()) return;
  const { ok, data: payload } = await api(`conversations/${state.openId}/messages`, { method: "POST", body: { body } });
  if (ok) {
    input.value = "";
    addMessage(state.openId, payload);
  } else notice(payload?.detail || t("error"));
});

function addMessage(conversationId, message) {
  const row = state.conversations.get(conversationId);
  if (row) {
    row.last_message = message;
    row.last_activity_at = message.created_at;
    renderList();
  }
  if (conversationId !== state.openId) return;
  const box = $('[data-testid="messages"]');
  if (box.querySelector(`[data-message="${message.id}"]`)) return;
  box.append(messageItem(message));
  scrollMessages();
}

// ------------------------------------------------------------------ live events

function upsert(conversation) {
  const had = state.conversations.get(conversation.id);
  if (belongs(conversation, state.queue)) {
    state.conversations.set(conversation.id, conversation);
  } else if (had) {
    state.conversations.delete(conversation.id);
    const contact = conversation.contact_name || `#${conversation.id}`;
    if (conversation.status === "assigned" && conversation.assignee !== me.id) {
      toast(t("left_queue", { contact, name: conversation.assignee_name }));
    } else if (conversation.status === "queued" && had.team !== conversation.team) {
      toast(t("moved_to", { contact, team: conversation.team_name }));
    }
  }
  renderList();
}

const live = connectLive(
  (event) => {
    if (event.type === "queue.counts") showCounts(event.counts);
    else if (event.type === "conversation.updated") {
      upsert(event.conversation);
      if (event.conversation.id === state.openId) {
        state.open = event.conversation;
        renderPane();
      }
    } else if (event.type === "message.created") addMessage(event.conversation, event.message);
    else if (event.type === "presence.changed") presence.show(event.status);
  },
  {
    onState: (s) => {
      document.body.classList.toggle("offline-socket", s !== "open");
      // (Re)load the list on every (re)connection: nothing missed while disconnected.
      if (s === "open") chooseQueue(state.queue, { reveal: false });
    },
  },
);
const presence = presenceSwitch(live, me.presence);

$$(".queue").forEach((button) => button.addEventListener("click", () => chooseQueue(button.dataset.queue)));
$$('[data-action="back-to-queues"]').forEach((b) => b.addEventListener("click", () => (inbox.dataset.view = "queues")));
$$('[data-action="back-to-list"]').forEach((b) => b.addEventListener("click", () => (inbox.dataset.view = "list")));
showCounts(data("counts-data"));
