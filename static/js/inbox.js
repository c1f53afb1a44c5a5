// The agent's inbox: queues with live counts; the chosen queue's list (queue order, loaded
// page by page as it scrolls); one conversation with its thread, history and contact; work
// that arrives for the agent (or in a team queue they asked to hear of) announced by a
// toast, a chime, a desktop notice and the title.
//
// The parts live in static/js/inbox/: the store (state and reducers, no DOM), the queues,
// the list, the open conversation, the reply box and the live connection. This file wires
// them: an event changes the store, and the store's answer says which part redraws what.
import { $$, api, data, durationText, isPhone, query, results, startTicking, t, toast } from "./common.js";
import { createList } from "./inbox/list.js";
import { connectInbox } from "./inbox/live.js";
import { createPane } from "./inbox/pane.js";
import { alertMemory, createQueues } from "./inbox/queues.js";
import { createReplyBox } from "./inbox/reply.js";
import * as store from "./inbox/store.js";
import { contactText } from "./labels.js";
import { chime, desktopNotice, setUpAlerts, titleCount } from "./notify.js";

const me = data("me-data");
const alerts = alertMemory(me.id);
const SEEN_KEY = `atende.seen.${me.id}`;

function remembered(key) {
  try {
    return JSON.parse(localStorage.getItem(key)) || {};
  } catch (error) {
    return {};
  }
}

const state = store.createState({
  me,
  counts: data("counts-data"),
  teams: data("teams-data") || [],
  agents: data("agents-data") || [],
  visibility: data("visibility-data") || {},
  seen: remembered(SEEN_KEY),
  alerts: alerts.load(),
});

const inbox = document.querySelector('[data-part="inbox"]');

const updateTitle = () => titleCount(store.titleNumber(state));

function markSeen(c) {
  store.markSeen(state, c);
  localStorage.setItem(SEEN_KEY, JSON.stringify(state.seen));
  updateTitle();
  if (state.queue === "mine") list.row(c.id);
}

// ------------------------------------------------------------------ the parts

const queues = createQueues({
  state,
  onChoose: (queue) => chooseQueue(queue),
  onAlert: (teamId) => {
    store.toggleAlert(state, teamId);
    alerts.save(state.alerts);
    queues.showCounts();
    updateTitle();
  },
});

const list = createList($$('[data-part="conversation-list"]')[0], {
  state,
  onOpen: (id) => openConversation(id),
  onMore: () => loadMore(),
});

const pane = createPane({
  state,
  inbox,
  onAct: (path, body) => act(path, body),
  onOpen: (id, options) => openConversation(id, options),
  onTeams: () => teamsChanged(),
});

const reply = createReplyBox({ state, notice: pane.notice, onSent: (id, message) => messageAdded(id, message) });

// ------------------------------------------------------------------ the list

async function chooseQueue(queue, { reveal = true, search = state.search } = {}) {
  store.chooseQueue(state, queue, search);
  queues.chosen();
  const team = store.teamOf(queue);
  if (team !== null) {
    // As the team is now (its hours may have changed in the admin).
    api(`teams/${team}/`).then((answer) => answer.ok && rememberTeams([answer.data]));
  }
  if (reveal) inbox.dataset.view = "list";
  list.reset();
  await loadMore();
}

// The next page after the last row listed (a keyset: rows leaving the head meanwhile never
// make it skip anyone).
async function loadMore() {
  const next = store.nextPage(state);
  if (!next) return;
  list.update();
  const { ok, status, data: payload } = await api(`conversations/?${query(next.params)}`);
  if (!ok) {
    // The last row left the list meanwhile: start over rather than guess.
    if (status === 400 && next.params.after && next.generation === state.generation) {
      return chooseQueue(state.queue, { reveal: false });
    }
    if (store.pageFailed(state, next.generation)) {
      list.update();
      toast(payload?.detail || t("error"), { kind: "error" });
    }
    return;
  }
  const page = results(payload);
  if (!store.pageArrived(state, next.generation, page, payload.next)) return;
  list.update(page.map((c) => c.id));
  list.fillViewport();
}

// ------------------------------------------------------------------ teams and their hours

function teamsChanged() {
  queues.renderTeamState();
  if (state.open) pane.render();
  scheduleTeamRefresh();
}

function rememberTeams(teams) {
  store.teamsArrived(state, teams);
  teamsChanged();
}

// The teams' open state again when one of them opens or closes (and once an hour).
let teamTimer = null;
function scheduleTeamRefresh() {
  clearTimeout(teamTimer);
  const now = Date.now();
  teamTimer = setTimeout(refreshTeams, store.nextTeamChange(state, now) - now);
}

async function refreshTeams() {
  const answer = await api("teams/");
  if (answer.ok) rememberTeams(results(answer.data));
  else scheduleTeamRefresh();
}

function countsArrived(counts) {
  const { lostQueue } = store.countsArrived(state, counts);
  queues.showCounts();
  updateTitle();
  // A team the agent left: its queue is no longer theirs to see.
  if (lostQueue) chooseQueue("waiting", { reveal: false });
  if (state.open) pane.render();
}

// ------------------------------------------------------------------ the open conversation

async function openConversation(id, { from = null } = {}) {
  reply.save();
  const before = state.openId;
  state.openId = id;
  state.open = state.rows.get(id) || state.mine.get(id) || from;
  inbox.dataset.view = "pane";
  reply.restore(id);
  list.opened(before, id);
  const detail = await pane.load(id);
  if (!detail) return;
  markSeen(detail);
  if (store.mayAct(state, detail) && !isPhone()) reply.focus();
}

// A change the agent made: the store, the row and the pane follow the server's answer.
async function act(path, body) {
  const id = state.openId;
  const { ok, status, data: payload } = await api(`conversations/${id}/${path}`, { method: "POST", body });
  if (ok) {
    pane.notice("");
    if (payload && payload.id === id) {
      state.open = payload;
      store.track(state, payload, { announce: false });
      updateTitle();
      conversationChanged(payload);
      pane.render();
      pane.thread.reloadEvents();
    }
    return true;
  }
  if (status === 409 && payload?.assignee) pane.notice(t("taken_by", { name: payload.assignee.name }));
  else pane.notice(payload?.detail || t("error"));
  return false;
}

pane.claimButton.addEventListener("click", async () => {
  const id = state.openId;
  state.claiming.add(id);
  const claimed = await act("claim", {});
  state.claiming.delete(id);
  if (claimed && state.openId === id) {
    // It is the agent's now: show it where it lives, open, ready for a reply.
    await chooseQueue("mine", { reveal: false });
    inbox.dataset.view = "pane";
    list.opened(null, id);
    reply.focus();
  }
});

// ------------------------------------------------------------------ changes

// One conversation changed: its row only (or its leaving, said when someone took it).
function conversationChanged(c) {
  const { row, told } = store.upsert(state, c);
  if (row) list.update(row === "removed" ? null : [c.id]);
  if (told) {
    const contact = contactText(c);
    toast(told.key === "left_queue" ? t("left_queue", { contact, name: c.assignee_name }) : t("moved_to", { contact, team: c.team_name }));
  }
}

function announce(announcement) {
  const c = announcement.conversation;
  const contact = contactText(c);
  const open = () => {
    if (announcement.kind === "queued") chooseQueue(`team:${c.team}`, { reveal: false });
    openConversation(c.id, { from: c });
  };
  const text = {
    reserved: () => t("announce_reserved", { contact }),
    assigned: () => t("announce_assigned", { contact }),
    queued: () => t("announce_queued", { contact, team: c.team_name || "" }),
  }[announcement.kind]();
  toast(text, { onClick: open, kind: "work" });
  chime();
  desktopNotice(t("new_work"), text, open);
}

function messageAdded(conversationId, message) {
  const known = store.messageAdded(state, conversationId, message);
  if (conversationId === state.openId) {
    pane.thread.add(message);
    if (!document.hidden) markSeen(state.mine.get(conversationId) || { id: conversationId, last_message: message });
  } else if (state.mine.has(conversationId) && message.sender === "contact") {
    desktopNotice(contactText(known), message.body, () => openConversation(conversationId));
  }
  updateTitle();
  if (state.rows.has(conversationId)) list.update([conversationId]);
}

async function loadMine() {
  const [assigned, reserved] = await Promise.all([
    api(`conversations/?${query({ status: "assigned", assignee: me.id, page_size: 200 })}`),
    api(`conversations/?${query({ status: "reserved", preferred_agent: me.id, page_size: 200 })}`),
  ]);
  store.mineLoaded(state, [assigned, reserved].flatMap((answer) => (answer.ok ? results(answer.data) : [])));
  updateTitle();
}

// ------------------------------------------------------------------ live events

connectInbox({
  initialPresence: me.presence,
  handlers: {
    "queue.counts": (event) => countsArrived(event.counts),
    "conversation.updated": (event) => {
      const c = event.conversation;
      const announcement = store.track(state, c);
      updateTitle();
      if (announcement) announce(announcement);
      conversationChanged(c);
      if (c.id === state.openId) {
        const moved = state.open && (state.open.status !== c.status || state.open.team !== c.team || state.open.assignee !== c.assignee);
        state.open = c;
        pane.render();
        if (moved) pane.thread.reloadEvents();
      }
    },
    "message.created": (event) => messageAdded(event.conversation, event.message),
    "conversation.handed_over": (event) => {
      toast(t("handed_over", {
        contact: event.contact_name || `#${event.conversation}`, team: event.team_name || "", time: durationText(event.reply_seconds),
      }), { kind: "error" });
    },
  },
  // (Re)load on every reconnection: nothing missed while disconnected.
  onReconnected: async () => {
    refreshTeams();
    await loadMine();
    chooseQueue(state.queue, { reveal: false });
    if (state.openId) pane.thread.load(state.open || { id: state.openId });
  },
});

// ------------------------------------------------------------------ the page

document.querySelector('[data-part="search-form"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const q = document.querySelector('[data-part="search-input"]').value.trim();
  if (q) chooseQueue("search", { search: q });
});
$$('[data-action="back-to-queues"]').forEach((b) => b.addEventListener("click", () => (inbox.dataset.view = "queues")));
$$('[data-action="back-to-list"]').forEach((b) => b.addEventListener("click", () => {
  reply.save();
  inbox.dataset.view = "list";
}));
$$('[data-action="back-to-thread"]').forEach((b) => b.addEventListener("click", () => pane.showContact(false)));
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.open && state.mine.has(state.open.id)) markSeen(state.mine.get(state.open.id));
});

setUpAlerts();
startTicking();
queues.showCounts();
scheduleTeamRefresh();
loadMine();
// A search sent before this script ran arrives as ?q= (the form works without it too).
const asked = new URLSearchParams(location.search).get("q")?.trim();
if (asked) {
  document.querySelector('[data-part="search-input"]').value = asked;
  chooseQueue("search", { search: asked });
} else chooseQueue("waiting", { reveal: false });
document.body.dataset.ready = "true";
