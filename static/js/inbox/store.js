// The inbox's state and the reducers that change it: no DOM, no network, no timers (tested
// with `node --test tests/js/`). Each reducer updates the state and returns what changed, so
// that the views (list.js, pane.js, queues.js) redraw only that: one row, one count.
//
// Who may see a conversation comes from the page (visibility-data, rendered from
// apps/conversations/visibility.py script_table): the script applies the server's rule, it
// does not write its own.

export const PAGE_SIZE = 50;
export const OPEN_STATUSES = ["waiting", "queued", "reserved"];

export function createState({ me, counts = null, teams = [], agents = [], visibility = {}, seen = {}, alerts = [] }) {
  return {
    me,
    visibility,
    queue: "waiting", // waiting | team:<id> | mine | reserved | search
    search: "",
    rows: new Map(), // the list's conversations by id
    more: false, // the server has rows after the last one listed
    loading: false,
    generation: 0, // bumped whenever the list starts over: late answers are dropped
    openId: null,
    open: null,
    counts: counts || { waiting: 0, mine: 0, reserved_for_me: 0, teams: [] },
    myTeams: new Set((counts?.teams || []).map((team) => team.id)),
    teams: new Map(teams.map((team) => [team.id, team])),
    agents: new Map(agents.map((agent) => [agent.id, agent])),
    mine: new Map(), // assigned to me or reserved for me: what announces itself
    fresh: new Set(), // announced and not opened yet
    claiming: new Set(),
    drafts: new Map(),
    seen: { ...seen }, // conversation id -> the last message id the agent has seen
    alerts: new Set(alerts.map(Number)), // team queues whose new work announces itself
    queuedKnown: new Set(), // "id:team" of conversations known to be queued there
  };
}

// ------------------------------------------------------------------ who may do what

export const teamOf = (queue) => (queue.startsWith("team:") ? Number(queue.split(":")[1]) : null);

export const isMine = (state, c) =>
  (c.status === "assigned" && c.assignee === state.me.id) ||
  (c.status === "reserved" && c.preferred_agent === state.me.id);

// The person's relations to ``c`` (the names of script_table); a supervisor sees as one.
export function relations(state, c) {
  const { me } = state;
  const held = new Set();
  if (me.is_supervisor) held.add("supervisor");
  else {
    held.add("waiting");
    if (c.team !== null && c.team !== undefined && state.myTeams.has(c.team)) held.add("team");
  }
  if (c.assignee === me.id) held.add("assignee");
  if (c.preferred_agent === me.id) held.add("preferred");
  return held;
}

export function maySee(state, c) {
  const seenBy = state.visibility[c.status] || [];
  const held = relations(state, c);
  return seenBy.some((relation) => held.has(relation));
}

// ATENDER only where a claim can succeed (routing.md 3; decisions "Claims and visibility").
export function mayClaim(state, c) {
  const { me } = state;
  if (!OPEN_STATUSES.includes(c.status)) return false;
  if (me.is_supervisor || c.status === "waiting") return true;
  if (c.status === "reserved") return c.preferred_agent === me.id;
  return state.myTeams.has(c.team);
}

export const mayAct = (state, c) => c.status === "assigned" && (c.assignee === state.me.id || state.me.is_supervisor);

// ------------------------------------------------------------------ the list

export function belongs(state, c, queue = state.queue) {
  const { me } = state;
  if (queue === "waiting") return c.status === "waiting";
  if (queue === "mine") return c.status === "assigned" && c.assignee === me.id;
  if (queue === "reserved") return c.status === "reserved" && c.preferred_agent === me.id;
  if (queue === "search") return false; // results are what the server found
  return c.status === "queued" && c.team === teamOf(queue);
}

export const byActivity = (queue) => queue === "mine" || queue === "search";

export function listParams(state, queue = state.queue) {
  const { me } = state;
  const base = { page_size: PAGE_SIZE, ordering: byActivity(queue) ? "activity" : "queue" };
  if (queue === "waiting") return { ...base, status: "waiting" };
  if (queue === "mine") return { ...base, status: "assigned", assignee: me.id };
  if (queue === "reserved") return { ...base, status: "reserved", preferred_agent: me.id };
  if (queue === "search") return { ...base, q: state.search };
  return { ...base, status: "queued", team: teamOf(queue) };
}

// The order the server lists in: queues by (starred for me, queued_at, id); Mine and search
// by newest activity.
export function compare(state) {
  if (byActivity(state.queue)) {
    return (a, b) => Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) || b.id - a.id;
  }
  const me = state.me.id;
  return (a, b) => {
    const starA = a.preferred_agent === me ? 0 : 1;
    const starB = b.preferred_agent === me ? 0 : 1;
    if (starA !== starB) return starA - starB;
    const qa = a.queued_at ? Date.parse(a.queued_at) : -Infinity;
    const qb = b.queued_at ? Date.parse(b.queued_at) : -Infinity;
    return qa - qb || a.id - b.id;
  };
}

export const sorted = (state) => [...state.rows.values()].sort(compare(state));

// Another list: everything listed goes; answers for the list before are dropped.
export function chooseQueue(state, queue, search = state.search) {
  state.queue = queue;
  state.search = search;
  state.generation += 1;
  state.rows.clear();
  state.more = true;
  state.loading = false;
  return state.generation;
}

// The parameters of the next page (a keyset after the last row), or null if none is due.
export function nextPage(state) {
  if (state.loading || !state.more) return null;
  const rows = sorted(state);
  const params = listParams(state);
  if (rows.length) params.after = rows[rows.length - 1].id;
  state.loading = true;
  return { params, generation: state.generation };
}

// A page arrived: false if the list started over meanwhile (the page is dropped).
export function pageArrived(state, generation, conversations, more) {
  if (generation !== state.generation) return false;
  state.loading = false;
  for (const c of conversations) state.rows.set(c.id, c);
  state.more = Boolean(more);
  return true;
}

export function pageFailed(state, generation) {
  if (generation !== state.generation) return false;
  state.loading = false;
  state.more = false;
  return true;
}

// A live change to the list: in it if it belongs (and falls within what is loaded; later
// rows come with later pages), out of it otherwise. Returns {row: "added" | "updated" |
// "removed" | null, told: a note for the agent or null}.
export function upsert(state, c) {
  const had = state.rows.get(c.id);
  const rows = sorted(state);
  const last = rows[rows.length - 1];
  const inRange = !state.more || !last || compare(state)(c, last) <= 0;
  if (state.queue === "search") {
    if (!had) return { row: null, told: null };
    state.rows.set(c.id, c);
    return { row: "updated", told: null };
  }
  if (belongs(state, c) && (had || inRange)) {
    state.rows.set(c.id, c);
    return { row: had ? "updated" : "added", told: null };
  }
  if (!had) return { row: null, told: null };
  state.rows.delete(c.id);
  let told = null;
  if (c.status === "assigned" && c.assignee !== state.me.id) told = { key: "left_queue", conversation: c };
  else if (c.status === "queued" && had.team !== c.team) told = { key: "moved_to", conversation: c };
  return { row: "removed", told };
}

// ------------------------------------------------------------------ unread and the title

export function isUnread(state, c) {
  if (state.fresh.has(c.id)) return true;
  const last = c.last_message;
  return Boolean(last && last.sender === "contact" && last.id > (state.seen[c.id] || 0));
}

export function markSeen(state, c) {
  state.fresh.delete(c.id);
  if (c.last_message) state.seen[c.id] = c.last_message.id;
}

// The number in the tab title: the agent's conversations that want a look, and what waits
// in the team queues they asked to be alerted of.
export function titleNumber(state) {
  const unread = [...state.mine.values()].filter((c) => isUnread(state, c)).length;
  const queued = state.counts.teams
    .filter((team) => state.alerts.has(team.id))
    .reduce((sum, team) => sum + (team.queued || 0), 0);
  return unread + queued;
}

// ------------------------------------------------------------------ work that arrives

// Keep the agent's own conversations (assigned or reserved for them) and say which became
// theirs by someone else's doing (distribution, a transfer, a reservation): an announcement
// {kind: "assigned" | "reserved" | "queued", conversation} or null. A conversation entering
// a team queue whose alert is on is announced too ("queued").
export function track(state, c, { announce = true } = {}) {
  const queuedKey = `${c.id}:${c.team}`;
  const enteredQueue = c.status === "queued" && !state.queuedKnown.has(queuedKey);
  for (const key of [...state.queuedKnown]) if (key.startsWith(`${c.id}:`)) state.queuedKnown.delete(key);
  if (c.status === "queued") state.queuedKnown.add(queuedKey);

  if (!isMine(state, c)) {
    state.mine.delete(c.id);
    state.fresh.delete(c.id);
    if (announce && enteredQueue && state.alerts.has(c.team)) return { kind: "queued", conversation: c };
    return null;
  }
  const before = state.mine.get(c.id);
  state.mine.set(c.id, c);
  const changed = !before || before.status !== c.status;
  if (!announce || !changed || state.claiming.has(c.id)) return null;
  if (c.id !== state.openId) state.fresh.add(c.id);
  return { kind: c.status === "reserved" ? "reserved" : "assigned", conversation: c };
}

export function mineLoaded(state, conversations) {
  state.mine.clear();
  for (const c of conversations) state.mine.set(c.id, c);
}

// A new message: the rows and the agent's own keep it as their last one. Returns the
// conversation as the agent has it (or null if it is neither listed nor theirs).
export function messageAdded(state, conversationId, message) {
  let known = null;
  for (const kept of [state.rows, state.mine]) {
    const c = kept.get(conversationId);
    if (c) {
      known = { ...c, last_message: message, last_activity_at: message.created_at };
      kept.set(conversationId, known);
    }
  }
  return known;
}

// ------------------------------------------------------------------ counts and teams

// The counts as the server sent them: the teams whose queues the agent has. Returns
// {added: team ids new here, removed: team ids no longer theirs, lostQueue: whether the
// list was one of those}.
export function countsArrived(state, counts) {
  const before = new Set(state.counts.teams.map((team) => team.id));
  state.counts = counts;
  if (!state.me.is_supervisor) state.myTeams = new Set(counts.teams.map((team) => team.id));
  else counts.teams.forEach((team) => state.myTeams.add(team.id));
  for (const team of counts.teams) {
    state.teams.set(team.id, { ...(state.teams.get(team.id) || {}), id: team.id, name: team.name });
  }
  const now = new Set(counts.teams.map((team) => team.id));
  const added = [...now].filter((id) => !before.has(id));
  const removed = [...before].filter((id) => !now.has(id));
  const team = teamOf(state.queue);
  return { added, removed, lostQueue: team !== null && !now.has(team) };
}

export function teamsArrived(state, teams) {
  for (const team of teams) state.teams.set(team.id, { ...(state.teams.get(team.id) || {}), ...team });
}

// The alert of a team queue on or off; returns whether it is on now.
export function toggleAlert(state, teamId) {
  if (state.alerts.has(teamId)) state.alerts.delete(teamId);
  else state.alerts.add(teamId);
  return state.alerts.has(teamId);
}

// When the teams' open state changes next (ms since the epoch): the soonest opening or
// closing after ``now``, at least a second away, at most an hour.
export function nextTeamChange(state, now) {
  const changes = [...state.teams.values()]
    .flatMap((team) => [team.opens_at, team.closes_at])
    .filter(Boolean)
    .map(Date.parse)
    .filter((at) => at > now - 5000);
  return Math.min(now + 3600000, ...changes.map((at) => Math.max(at + 1000, now + 1000)));
}
