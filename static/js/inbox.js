// The agent's inbox: queues with live counts; the chosen queue's list (queue order, loaded
// page by page as it scrolls); one conversation with its thread, history and contact; work
// that arrives for the agent announced by a toast, a chime, a desktop notice and the title.
import {
  $, $$, agentName, agentWarning, api, channelLabel, confirmDialog, connectLive, countdown, data, durationText, el,
  isPhone, presenceSwitch, presenceText, query, results, startTicking, t, tickWaits, toast, whenText,
} from "./common.js";
import { ContactPanel } from "./contact.js";
import { chime, desktopNotice, setUpAlerts, titleCount } from "./notify.js";
import { Thread } from "./thread.js";

const me = data("me-data");
const PAGE_SIZE = 50;

const state = {
  queue: "waiting", // waiting | team:<id> | mine | reserved | search
  search: "",
  rows: new Map(), // the list's conversations by id
  more: false, // the server has rows after the last one listed
  loading: false,
  generation: 0, // bumped whenever the list starts over: late answers are dropped
  openId: null,
  open: null,
  myTeams: new Set((data("counts-data")?.teams || []).map((team) => team.id)),
  teams: new Map((data("teams-data") || []).map((team) => [team.id, team])),
  agents: new Map((data("agents-data") || []).map((agent) => [agent.id, agent])),
  mine: new Map(), // assigned to me or reserved for me: what announces itself
  fresh: new Set(), // announced and not opened yet
  claiming: new Set(),
  drafts: new Map(),
};

const inbox = $(".inbox");
const list = $('[data-testid="conversation-list"]');
const thread = new Thread($('[data-testid="messages"]'));
const contactPanel = new ContactPanel($('[data-testid="contact-body"]'), {
  onOpen: (conversation) => openConversation(conversation.id, { from: conversation }),
});

// ------------------------------------------------------------------ what the agent has seen

const SEEN_KEY = `atende.seen.${me.id}`;
const seen = (() => {
  try {
    return JSON.parse(localStorage.getItem(SEEN_KEY)) || {};
  } catch (error) {
    return {};
  }
})();

function markSeen(conversation) {
  state.fresh.delete(conversation.id);
  if (conversation.last_message) seen[conversation.id] = conversation.last_message.id;
  localStorage.setItem(SEEN_KEY, JSON.stringify(seen));
  updateTitle();
}

// Unread: announced and not opened yet, or the customer wrote since the agent last looked.
function isUnread(conversation) {
  if (state.fresh.has(conversation.id)) return true;
  const last = conversation.last_message;
  return Boolean(last && last.sender === "contact" && last.id > (seen[conversation.id] || 0));
}

function updateTitle() {
  titleCount([...state.mine.values()].filter(isUnread).length);
}

// ------------------------------------------------------------------ who may do what

const isMine = (c) =>
  (c.status === "assigned" && c.assignee === me.id) || (c.status === "reserved" && c.preferred_agent === me.id);

function maySee(c) {
  if (me.is_supervisor || c.status === "waiting") return true;
  if (c.assignee === me.id || (c.status === "reserved" && c.preferred_agent === me.id)) return true;
  return c.team !== null && state.myTeams.has(c.team);
}

// ATENDER only where a claim can succeed (routing.md 3; decisions "Claims and visibility").
function mayClaim(c) {
  if (!["waiting", "queued", "reserved"].includes(c.status)) return false;
  if (me.is_supervisor || c.status === "waiting") return true;
  if (c.status === "reserved") return c.preferred_agent === me.id;
  return state.myTeams.has(c.team);
}

const mayAct = (c) => c.status === "assigned" && (c.assignee === me.id || me.is_supervisor);

// ------------------------------------------------------------------ queues and counts

function queueTitle(queue) {
  if (queue === "search") return t("search_results", { q: state.search });
  const button = $(`[data-queue="${queue}"] span`);
  return button ? button.textContent : "";
}

function belongs(c, queue) {
  if (queue === "waiting") return c.status === "waiting";
  if (queue === "mine") return c.status === "assigned" && c.assignee === me.id;
  if (queue === "reserved") return c.status === "reserved" && c.preferred_agent === me.id;
  if (queue === "search") return false; // results are what the server found
  const team = Number(queue.split(":")[1]);
  return c.status === "queued" && c.team === team;
}

const byActivity = (queue) => queue === "mine" || queue === "search";

function listParams(queue) {
  const base = { page_size: PAGE_SIZE, ordering: byActivity(queue) ? "activity" : "queue" };
  if (queue === "waiting") return { ...base, status: "waiting" };
  if (queue === "mine") return { ...base, status: "assigned", assignee: me.id };
  if (queue === "reserved") return { ...base, status: "reserved", preferred_agent: me.id };
  if (queue === "search") return { ...base, q: state.search };
  return { ...base, status: "queued", team: queue.split(":")[1] };
}

// The order the server lists in: queues by (starred for me, queued_at, id); Mine and search
// by newest activity.
function compare(a, b) {
  if (byActivity(state.queue)) {
    const diff = Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at);
    return diff || b.id - a.id;
  }
  const starA = a.preferred_agent === me.id ? 0 : 1;
  const starB = b.preferred_agent === me.id ? 0 : 1;
  if (starA !== starB) return starA - starB;
  const qa = a.queued_at ? Date.parse(a.queued_at) : -Infinity;
  const qb = b.queued_at ? Date.parse(b.queued_at) : -Infinity;
  return qa - qb || a.id - b.id;
}

function showCounts(counts) {
  $('[data-testid="count-waiting"]').textContent = counts.waiting;
  $('[data-testid="count-mine"]').textContent = counts.mine;
  $('[data-testid="count-reserved"]').textContent = counts.reserved_for_me;
  if (!me.is_supervisor) state.myTeams = new Set(counts.teams.map((team) => team.id));
  else counts.teams.forEach((team) => state.myTeams.add(team.id));
  const box = $('[data-testid="team-queues"]');
  const listed = new Set(counts.teams.map((team) => `team:${team.id}`));
  for (const team of counts.teams) {
    state.teams.set(team.id, { ...(state.teams.get(team.id) || {}), id: team.id, name: team.name });
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
    $("span", button).textContent = team.name;
    $(".count", button).textContent = team.queued;
  }
  // Teams the agent left: their queue is no longer theirs to see.
  for (const button of $$("[data-queue^='team:']", box)) {
    if (!listed.has(button.dataset.queue)) button.remove();
  }
  if (state.queue.startsWith("team:") && !listed.has(state.queue)) chooseQueue("waiting", { reveal: false });
  if (state.open) renderPane();
}

async function chooseQueue(queue, { reveal = true } = {}) {
  state.queue = queue;
  state.generation += 1;
  $$(".queue").forEach((b) => b.classList.toggle("active", b.dataset.queue === queue));
  $('[data-testid="list-title"]').textContent = queueTitle(queue);
  renderTeamState();
  if (queue.startsWith("team:")) {
    // As the team is now (its hours may have changed in the admin).
    api(`teams/${queue.split(":")[1]}/`).then((answer) => answer.ok && rememberTeams([answer.data]));
  }
  if (reveal) inbox.dataset.view = "list";
  state.rows.clear();
  state.more = true;
  state.loading = false;
  renderList();
  list.scrollTop = 0;
  await loadMore();
}

// The next page after the last row listed (a keyset: rows leaving the head meanwhile never
// make it skip anyone).
async function loadMore() {
  if (state.loading || !state.more) return;
  const generation = state.generation;
  const rows = sorted();
  const params = listParams(state.queue);
  if (rows.length) params.after = rows[rows.length - 1].id;
  state.loading = true;
  renderList();
  const { ok, status, data: payload } = await api(`conversations/?${query(params)}`);
  if (generation !== state.generation) return;
  state.loading = false;
  if (!ok) {
    // The last row left the list meanwhile: start over rather than guess.
    if (status === 400 && params.after) return chooseQueue(state.queue, { reveal: false });
    state.more = false;
    renderList();
    return toast(payload?.detail || t("error"), { kind: "error" });
  }
  for (const c of results(payload)) state.rows.set(c.id, c);
  state.more = Boolean(payload.next);
  renderList();
  fillViewport();
}

// Keep loading while the list does not fill its box (or is scrolled near its end).
function fillViewport() {
  if (state.more && !state.loading && list.scrollHeight - list.scrollTop - list.clientHeight < 300) loadMore();
}
list.addEventListener("scroll", fillViewport);

// ------------------------------------------------------------------ the list

const sorted = () => [...state.rows.values()].sort(compare);

function row(c) {
  const starred = c.preferred_agent
    ? el("span", { class: "star", "data-testid": "star", title: t("preferred_agent_is", { name: c.preferred_agent_name || "" }) },
      "★ ", c.preferred_agent_name || "")
    : null;
  const waitingSince = ["waiting", "queued", "reserved"].includes(c.status) ? c.queued_at : null;
  const unread = state.queue === "mine" && isUnread(c)
    ? el("span", { class: "unread", "data-testid": "unread", title: t("unread") }, el("span", { class: "visually-hidden", text: t("unread") }))
    : null;
  const when = waitingSince
    ? el("span", { class: "waited", "data-testid": "waited", title: t("waiting_for") }, el("span", { "data-since": waitingSince }))
    : el("span", { class: "waited muted", title: t("last_activity") }, el("span", { "data-since": c.last_activity_at }));
  return el(
    "li",
    {
      class: `row${c.id === state.openId ? " active" : ""}${unread ? " is-unread" : ""}`,
      "data-testid": `conversation-${c.id}`,
      "data-id": c.id,
      tabindex: "0",
      role: "button",
      "aria-current": c.id === state.openId ? "true" : null,
      onclick: () => openConversation(c.id),
      onkeydown: (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), openConversation(c.id)),
    },
    el("div", { class: "row-top" }, unread, el("strong", { class: "name", text: c.contact_name || `#${c.id}` }), starred),
    el("div", { class: "row-meta" },
      el("span", { class: "channel", "data-testid": "channel", text: channelLabel(c.channel) }),
      state.queue === "search" ? el("span", { class: "muted", text: t(`status_${c.status}`) }) : null,
      when),
    deadlineLine(c),
    el("p", { class: "muted preview", text: c.last_message?.body || "" }),
  );
}

// ------------------------------------------------------------------ time rules (routing.md 8)

const REPLY_WARN_SECONDS = 30;

// A reserved conversation's remaining wait (to anyone who sees it), an automatic
// assignment's reply due time (to its assignee only): ticking countdowns, or null.
function deadlineNodes(c) {
  if (c.status === "reserved" && c.reserved_until) {
    return [countdown(c.reserved_until, "time_left", { class: "deadline reserved-left", "data-testid": "reserved-left", title: t("reserved_title") })];
  }
  if (c.status === "assigned" && c.reply_due_at && c.assignee === me.id) {
    return [countdown(c.reply_due_at, "reply_within", {
      class: "deadline reply-due", "data-testid": "reply-due", title: t("reply_due_title"), warnUnder: REPLY_WARN_SECONDS,
    })];
  }
  return [];
}

function deadlineLine(c) {
  const nodes = deadlineNodes(c);
  if (!nodes.length) return null;
  const who = c.status === "reserved" ? whereText(c) : null;
  return el("p", { class: "row-deadline" }, who, who ? " · " : null, ...nodes);
}

// Whether the team of the list is open, and when that changes: "Closed · opens Mon 08:00".
function teamStateText(team) {
  if (!team || team.open_now !== false) return "";
  return team.opens_at ? t("team_closed_opens", { when: whenText(team.opens_at) }) : t("team_closed");
}

function renderTeamState() {
  const box = $('[data-testid="team-state"]');
  const team = state.queue.startsWith("team:") ? state.teams.get(Number(state.queue.split(":")[1])) : null;
  const text = teamStateText(team);
  box.textContent = text;
  box.hidden = !text;
}

function rememberTeams(teams) {
  teams.forEach((team) => state.teams.set(team.id, { ...(state.teams.get(team.id) || {}), ...team }));
  renderTeamState();
  if (state.open) renderPane();
  scheduleTeamRefresh();
}

// The teams' open state again when one of them opens or closes (and once an hour).
let teamTimer = null;
function scheduleTeamRefresh() {
  clearTimeout(teamTimer);
  const now = Date.now();
  const changes = [...state.teams.values()]
    .flatMap((team) => [team.opens_at, team.closes_at])
    .filter(Boolean)
    .map(Date.parse)
    .filter((at) => at > now - 5000);
  const next = Math.min(now + 3600000, ...changes.map((at) => Math.max(at + 1000, now + 1000)));
  teamTimer = setTimeout(refreshTeams, next - now);
}

async function refreshTeams() {
  const answer = await api("teams/");
  if (answer.ok) rememberTeams(results(answer.data));
  else scheduleTeamRefresh();
}

function renderList() {
  const rows = sorted();
  const nodes = rows.map(row);
  if (!rows.length && !state.loading && !state.more) nodes.push(el("li", { class: "empty muted", text: t("no_conversations") }));
  if (state.loading) nodes.push(el("li", { class: "loading muted", "data-testid": "list-loading", text: t("loading") }));
  else if (state.more && rows.length) {
    nodes.push(el("li", { class: "more" }, el("button", { type: "button", "data-testid": "load-more", onclick: loadMore, text: t("load_more") })));
  }
  list.replaceChildren(...nodes);
  tickWaits(list);
}

// A live change: in the list if it belongs to it (and falls within what is loaded; later
// rows come with later pages), out of it otherwise.
function upsert(c) {
  const had = state.rows.get(c.id);
  const rows = sorted();
  const last = rows[rows.length - 1];
  const inRange = !state.more || !last || compare(c, last) <= 0;
  if (state.queue === "search") {
    if (had) state.rows.set(c.id, c);
  } else if (belongs(c, state.queue) && (had || inRange)) {
    state.rows.set(c.id, c);
  } else if (had) {
    state.rows.delete(c.id);
    const contact = c.contact_name || `#${c.id}`;
    if (c.status === "assigned" && c.assignee !== me.id) {
      toast(t("left_queue", { contact, name: c.assignee_name }));
    } else if (c.status === "queued" && had.team !== c.team) {
      toast(t("moved_to", { contact, team: c.team_name }));
    }
  }
  renderList();
}

// ------------------------------------------------------------------ the open conversation

function whereText(c) {
  if (c.status === "closed") return t("closed");
  if (c.status === "assigned") return c.assignee === me.id ? t("assigned_to_you") : t("taken_by", { name: c.assignee_name });
  if (c.status === "reserved") return c.preferred_agent === me.id ? t("reserved_for_you") : t("reserved_for", { name: c.preferred_agent_name });
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
  const deadlines = deadlineNodes(c);
  const closed = c.status === "queued" ? teamStateText(state.teams.get(c.team)) : "";
  if (closed) deadlines.push(el("span", { class: "team-closed", "data-testid": "conversation-team-state", text: closed }));
  $('[data-testid="conversation-status"]').replaceChildren(
    whereText(c), ...deadlines.map((node) => el("span", { class: "nowrap" }, " · ", node)),
  );
  $('[data-testid="claim"]').hidden = !mayClaim(c);
  $('[data-testid="contact-toggle"]').hidden = false;
  const acting = mayAct(c);
  const form = $('[data-testid="reply-form"]');
  const wasHidden = form.hidden;
  form.hidden = !acting;
  $('[data-testid="actions"]').hidden = !acting;
  if (acting && wasHidden) refreshTargets();
  if (!maySee(c)) notice(t("out_of_sight", { where: whereText(c) }));
}

function saveDraft() {
  if (state.openId !== null) state.drafts.set(state.openId, $('[data-testid="reply-input"]').value);
}

async function openConversation(id, { from = null } = {}) {
  saveDraft();
  state.openId = id;
  state.open = state.rows.get(id) || state.mine.get(id) || from;
  notice("");
  inbox.dataset.view = "pane";
  $('[data-testid="reply-input"]').value = state.drafts.get(id) || "";
  renderList();
  if (state.open) renderPane();
  else $('[data-testid="pane-title"]').textContent = t("loading");
  showContact(window.matchMedia("(min-width: 1200px)").matches);
  const [detail] = await Promise.all([
    api(`conversations/${id}/`),
    thread.load(state.open || { id }),
    contactPanel.load(id),
  ]);
  if (state.openId !== id) return;
  if (!detail.ok) {
    notice(detail.data?.detail || t("error"));
    return;
  }
  state.open = detail.data;
  thread.conversation = detail.data;
  renderPane();
  markSeen(detail.data);
  if (state.queue === "mine") renderList();
  if (mayAct(detail.data) && !isPhone()) $('[data-testid="reply-input"]').focus();
}

function showContact(visible) {
  const panel = $('[data-testid="contact-panel"]');
  panel.hidden = !visible;
  $('[data-testid="contact-toggle"]').setAttribute("aria-expanded", String(visible));
  inbox.classList.toggle("with-contact", visible);
  if (isPhone()) inbox.dataset.view = visible ? "contact" : "pane";
}

$('[data-testid="contact-toggle"]').addEventListener("click", () => {
  showContact($('[data-testid="contact-panel"]').hidden);
});

async function act(path, body) {
  const id = state.openId;
  const { ok, status, data: payload } = await api(`conversations/${id}/${path}`, { method: "POST", body });
  if (ok) {
    notice("");
    if (payload && payload.id === id) {
      state.open = payload;
      track(payload, { announce: false });
      upsert(payload);
      renderPane();
      thread.reloadEvents();
    }
    return true;
  }
  if (status === 409 && payload?.assignee) notice(t("taken_by", { name: payload.assignee.name }));
  else notice(payload?.detail || t("error"));
  return false;
}

$('[data-testid="claim"]').addEventListener("click", async () => {
  const id = state.openId;
  state.claiming.add(id);
  const claimed = await act("claim", {});
  state.claiming.delete(id);
  if (claimed && state.openId === id) {
    // It is the agent's now: show it where it lives, open, ready for a reply.
    await chooseQueue("mine", { reveal: false });
    inbox.dataset.view = "pane";
    renderList();
    $('[data-testid="reply-input"]').focus();
  }
});

$('[data-testid="close"]').addEventListener("click", async () => {
  if (isPhone() && !(await confirmDialog(t("confirm_close", { contact: state.open?.contact_name || "" }), { ok: t("close_it") }))) {
    return;
  }
  act("close", {});
});

// ------------------------------------------------------------------ transfer

function renderTransferTargets() {
  const select = $('[data-testid="transfer-target"]');
  const chosen = select.value;
  const teams = [...state.teams.values()].sort((a, b) => a.name.localeCompare(b.name));
  const agents = [...state.agents.values()]
    .filter((a) => a.id !== me.id && a.is_active !== false)
    .sort((a, b) => agentName(a).localeCompare(agentName(b)));
  select.replaceChildren(
    el("option", { value: "", text: t("choose_target") }),
    el("optgroup", { label: t("teams") }, ...teams.map((team) => el("option", { value: `team:${team.id}`, text: team.name }))),
    el("optgroup", { label: t("agents") }, ...agents.map((a) => el("option", {
      value: `agent:${a.id}`, "data-presence": a.presence, text: `${agentName(a)} — ${presenceText(a)}`,
    }))),
  );
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  $('[data-testid="transfer"]').disabled = !select.value;
}

// Presence and load as they are now, when the agent is about to choose.
async function refreshTargets() {
  const [agents, teams] = await Promise.all([api("agents/"), api("teams/")]);
  if (agents.ok) agents.data.forEach((a) => state.agents.set(a.id, a));
  if (teams.ok) rememberTeams(results(teams.data));
  renderTransferTargets();
}

const transferSelect = $('[data-testid="transfer-target"]');
transferSelect.addEventListener("focus", refreshTargets);
transferSelect.addEventListener("change", () => {
  $('[data-testid="transfer"]').disabled = !transferSelect.value;
});
$('[data-testid="transfer"]').addEventListener("click", async () => {
  const [kind, target] = transferSelect.value.split(":");
  if (!target) return;
  if (kind === "agent") {
    await refreshTargets(); // warn on presence and load as they are now
    const agent = state.agents.get(Number(target));
    const warning = agent && agentWarning(agent);
    if (warning && !(await confirmDialog(warning, { ok: t("transfer_anyway") }))) return;
  }
  if (await act("transfer", { [kind]: Number(target) })) {
    transferSelect.value = "";
    $('[data-testid="transfer"]').disabled = true;
  }
});

// ------------------------------------------------------------------ the reply box

const replyForm = $('[data-testid="reply-form"]');
const replyInput = $('[data-testid="reply-input"]');
replyInput.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    replyForm.requestSubmit();
  }
});
replyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const id = state.openId;
  const body = replyInput.value;
  if (!body.trim()) return;
  const send = $('[data-testid="reply-send"]');
  send.disabled = true;
  const { ok, data: payload } = await api(`conversations/${id}/messages`, { method: "POST", body: { body } });
  send.disabled = false;
  if (ok) {
    if (state.openId === id) replyInput.value = "";
    state.drafts.delete(id);
    notice("");
    addMessage(id, payload);
  } else notice(payload?.detail || t("error")); // the draft stays
});

function addMessage(conversationId, message) {
  for (const store of [state.rows, state.mine]) {
    const c = store.get(conversationId);
    if (c) {
      store.set(conversationId, { ...c, last_message: message, last_activity_at: message.created_at });
    }
  }
  if (conversationId === state.openId) {
    thread.add(message);
    if (!document.hidden) markSeen(state.mine.get(conversationId) || { id: conversationId, last_message: message });
  } else if (state.mine.has(conversationId) && message.sender === "contact") {
    const c = state.mine.get(conversationId);
    desktopNotice(c.contact_name || `#${c.id}`, message.body, () => openConversation(c.id));
  }
  updateTitle();
  renderList();
}

// ------------------------------------------------------------------ work that arrives

// Keep the agent's own conversations (assigned or reserved for them) and announce those
// that became theirs by someone else's doing: distribution, a transfer, a reservation.
function track(c, { announce = true } = {}) {
  const before = state.mine.get(c.id);
  if (!isMine(c)) {
    state.mine.delete(c.id);
    state.fresh.delete(c.id);
    updateTitle();
    return;
  }
  state.mine.set(c.id, c);
  const changed = !before || before.status !== c.status;
  if (announce && changed && !state.claiming.has(c.id)) {
    const contact = c.contact_name || `#${c.id}`;
    const text = c.status === "reserved" ? t("announce_reserved", { contact }) : t("announce_assigned", { contact });
    if (c.id !== state.openId) state.fresh.add(c.id);
    toast(text, { onClick: () => openConversation(c.id), kind: "work" });
    chime();
    desktopNotice(t("new_work"), text, () => openConversation(c.id));
  }
  updateTitle();
}

async function loadMine() {
  const [assigned, reserved] = await Promise.all([
    api(`conversations/?${query({ status: "assigned", assignee: me.id, page_size: 200 })}`),
    api(`conversations/?${query({ status: "reserved", preferred_agent: me.id, page_size: 200 })}`),
  ]);
  state.mine.clear();
  for (const answer of [assigned, reserved]) if (answer.ok) results(answer.data).forEach((c) => state.mine.set(c.id, c));
  updateTitle();
}

// ------------------------------------------------------------------ live events

let firstOpen = true;
const live = connectLive(
  (event) => {
    if (event.type === "queue.counts") showCounts(event.counts);
    else if (event.type === "conversation.updated") {
      const c = event.conversation;
      track(c);
      upsert(c);
      if (c.id === state.openId) {
        const moved = state.open && (state.open.status !== c.status || state.open.team !== c.team || state.open.assignee !== c.assignee);
        state.open = c;
        renderPane();
        if (moved) thread.reloadEvents();
      }
    } else if (event.type === "message.created") addMessage(event.conversation, event.message);
    else if (event.type === "conversation.handed_over") {
      toast(t("handed_over", {
        contact: event.contact_name || `#${event.conversation}`, team: event.team_name || "", time: durationText(event.reply_seconds),
      }), { kind: "error" });
    }
    else if (event.type === "presence.changed") {
      me.presence = event.status;
      presence.show(event.status);
    } else if (event.type === "error") toast(event.detail, { kind: "error" });
  },
  {
    onState: async (s) => {
      presence.connected(s === "open");
      if (s !== "open") return;
      // (Re)load on every (re)connection: nothing missed while disconnected.
      await presence.refresh();
      if (!firstOpen) {
        refreshTeams();
        await loadMine();
        chooseQueue(state.queue, { reveal: false });
        if (state.openId) thread.load(state.open || { id: state.openId });
      }
      firstOpen = false;
    },
  },
);
const presence = presenceSwitch(live, me.presence);

// ------------------------------------------------------------------ the page

$$(".queue").forEach((button) => button.addEventListener("click", () => chooseQueue(button.dataset.queue)));
$('[data-testid="search-form"]').addEventListener("submit", (event) => {
  event.preventDefault();
  const q = $('[data-testid="search-input"]').value.trim();
  if (!q) return;
  state.search = q;
  chooseQueue("search");
});
$$('[data-action="back-to-queues"]').forEach((b) => b.addEventListener("click", () => (inbox.dataset.view = "queues")));
$$('[data-action="back-to-list"]').forEach((b) => b.addEventListener("click", () => {
  saveDraft();
  inbox.dataset.view = "list";
}));
$$('[data-action="back-to-thread"]').forEach((b) => b.addEventListener("click", () => showContact(false)));
document.addEventListener("visibilitychange", () => {
  if (!document.hidden && state.open && state.mine.has(state.open.id)) markSeen(state.mine.get(state.open.id));
});

setUpAlerts();
startTicking();
showCounts(data("counts-data"));
scheduleTeamRefresh();
loadMine();
// A search sent before this script ran arrives as ?q= (the form works without it too).
const asked = new URLSearchParams(location.search).get("q")?.trim();
if (asked) {
  state.search = asked;
  $('[data-testid="search-input"]').value = asked;
  chooseQueue("search");
} else chooseQueue("waiting", { reveal: false });
document.body.dataset.ready = "true";
