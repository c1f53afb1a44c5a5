// The supervisor's floor: one store (teams with their figures, agents, open conversations,
// Waiting) fed by the API and the live socket, and panels that show it. Each panel keeps one
// DOM row per item and updates it in place, so a half-made choice (an agent picked, not yet
// assigned) survives any event. The team cards (floor.js) show GET stats/teams, fetched
// again, at most once a second, whenever an event says the floor moved; picking a team
// narrows the open conversations to it, and any of them can be read before reassigning it.
import {
  $, agentName, agentWarning, api, channelLabel, confirmDialog, connectLive, data, el, presenceSwitch,
  presenceText, query, results, startTicking, t, tickWaits, timeOf, toast,
} from "./common.js";
import { createFloor, statsFetcher, tickCountdowns } from "./floor.js";
import { whereText } from "./labels.js";
import { createReader } from "./reader.js";

const me = data("me-data");
const PAGE_SIZE = 100;
const DIRECTORY_REFRESH_MS = 60000;
const STATS_REFRESH_MS = 30000; // the last hour's figures and the chart move with time too

// ------------------------------------------------------------------ the store

const store = {
  waiting: data("counts-data")?.waiting ?? 0,
  waitingSince: null,
  teams: new Map((data("counts-data")?.teams || []).map((team) => [team.id, { ...team }])),
  teamFilter: null, // the team picked on the floor: the open conversations are its own
  agents: new Map((data("agents-data") || []).map((agent) => [agent.id, agent])),
  conversations: new Map(), // open ones, in queue order, loaded page by page
  moreConversations: true,
  loadingConversations: false,
  generation: 0,
};

function changed(kind, ids = null) {
  for (const panel of PANELS) panel.changed?.(kind, ids);
}

function putTeams(teams) {
  const fresh = [];
  for (const team of teams) {
    if (!store.teams.has(team.id)) fresh.push(team.id);
    store.teams.set(team.id, { ...(store.teams.get(team.id) || { queued: 0 }), ...team });
  }
  changed("teams", teams.map((team) => team.id));
  return fresh;
}

// The figures of GET stats/teams: every team there is, with its counts as of that moment.
function putStats(stats) {
  const ids = new Set(stats.teams.map((team) => team.id));
  for (const id of [...store.teams.keys()]) if (!ids.has(id)) store.teams.delete(id);
  for (const team of stats.teams) {
    store.teams.set(team.id, { ...(store.teams.get(team.id) || {}), ...team, stats: true });
  }
  store.waiting = stats.waiting;
  store.waitingSince = stats.oldest_waiting_at;
  store.statsAt = stats.at;
  changed("waiting");
  changed("teams");
}

function putAgents(agents, { fromDirectory = false } = {}) {
  const unknown = !fromDirectory && agents.some((agent) => !store.agents.has(agent.id));
  for (const agent of agents) {
    store.agents.set(agent.id, { ...(store.agents.get(agent.id) || {}), ...agent });
  }
  changed("agents", agents.map((agent) => agent.id));
  if (unknown) refreshDirectory();
}

// Teams and people created after the page loaded (and deactivated ones) show up here: on
// every (re)connection, whenever an event names someone unknown, and every minute.
async function refreshDirectory() {
  const [teams, agents] = await Promise.all([api("teams/"), api("agents/")]);
  if (teams.ok) putTeams(teams.data.map(({ id, name }) => ({ id, name })));
  if (agents.ok) {
    const active = agents.data.filter((a) => a.is_active);
    for (const id of [...store.agents.keys()]) {
      if (!active.some((a) => a.id === id)) store.agents.delete(id);
    }
    const memberships = new Map();
    for (const team of teams.ok ? teams.data : []) {
      for (const member of team.members || []) {
        memberships.set(member, [...(memberships.get(member) || []), team.id]);
      }
    }
    putAgents(active.map((a) => ({
      ...a, name: agentName(a),
      ...(teams.ok ? { teams: memberships.get(a.id) || [] } : {}),
    })), { fromDirectory: true });
    changed("agents-removed");
  }
}

// Oldest first (the order distribution uses), continued after the last row loaded.
const queueOrder = (a, b) => {
  const qa = a.queued_at ? Date.parse(a.queued_at) : -Infinity;
  const qb = b.queued_at ? Date.parse(b.queued_at) : -Infinity;
  return qa - qb || a.id - b.id;
};
const sortedConversations = () => [...store.conversations.values()].sort(queueOrder);

async function loadConversations({ restart = false } = {}) {
  if (restart) {
    store.generation += 1;
    store.conversations.clear();
    store.moreConversations = true;
    store.loadingConversations = false;
    changed("conversations-reset");
  }
  if (store.loadingConversations || !store.moreConversations) return;
  const generation = store.generation;
  const rows = sortedConversations();
  const params = { open: "true", ordering: "queue", page_size: PAGE_SIZE, team: store.teamFilter };
  if (rows.length) params.after = rows[rows.length - 1].id;
  store.loadingConversations = true;
  const { ok, status, data: payload } = await api(`conversations/?${query(params)}`);
  if (generation !== store.generation) return;
  store.loadingConversations = false;
  if (!ok) {
    if (status === 400 && params.after) return loadConversations({ restart: true });
    store.moreConversations = false;
    return toast(payload?.detail || t("error"), { kind: "error" });
  }
  const page = results(payload);
  page.forEach((c) => store.conversations.set(c.id, c));
  store.moreConversations = Boolean(payload.next);
  changed("conversations", page.map((c) => c.id));
}

function putConversation(c) {
  reader.update(c);
  const rows = sortedConversations();
  const last = rows[rows.length - 1];
  const inRange = !store.moreConversations || !last || queueOrder(c, last) <= 0;
  const elsewhere = store.teamFilter !== null && c.team !== store.teamFilter;
  if (c.status === "closed" || elsewhere) store.conversations.delete(c.id);
  else if (store.conversations.has(c.id) || inRange) store.conversations.set(c.id, c);
  changed("conversations", [c.id]);
}

// ------------------------------------------------------------------ panels

const floorPanel = {
  floor: createFloor({
    onPick: (id) => pickTeam(id),
    // Ask first, saying what will happen (GET gives the plan without doing it); limits are
    // never passed, so what does not fit stays queued.
    onDistribute: async (teamId, button) => {
      const out = $(`[data-testid="distributed-${teamId}"]`);
      button.disabled = true;
      const plan = await api(`teams/${teamId}/distribute`);
      if (!plan.ok || !plan.data.assigned) {
        button.disabled = false;
        out.textContent = plan.ok ? t("distribute_nothing", { n: plan.data.stayed }) : plan.data?.detail || t("error");
        return;
      }
      const who = plan.data.agents.map((a) => `${a.name}: ${a.assigned}`).join(", ");
      const lines = [
        t("distribute_ask", { team: store.teams.get(teamId)?.name || "" }),
        t("distribute_will_assign", { n: plan.data.assigned, who }),
      ];
      if (plan.data.stayed) lines.push(t("distribute_will_stay", { n: plan.data.stayed }));
      const yes = await confirmDialog(lines.join("\n"), { ok: t("distribute_yes") });
      if (!yes) {
        button.disabled = false;
        return;
      }
      const { ok, data: payload } = await api(`teams/${teamId}/distribute`, { method: "POST", body: {} });
      button.disabled = false;
      out.textContent = ok ? t("distributed", { n: payload.assigned, stayed: payload.stayed }) : payload?.detail || t("error");
    },
  }),

  changed(kind, ids) {
    if (kind === "waiting") {
      $('[data-testid="count-waiting"]').textContent = store.waiting;
      const oldest = $('[data-testid="floor-waiting-oldest"]');
      if (store.waiting > 0 && store.waitingSince) {
        const since = oldest.querySelector("[data-since]");
        if (since) since.dataset.since = store.waitingSince;
        else oldest.replaceChildren(t("floor_oldest"), " ", el("strong", { "data-since": store.waitingSince }));
        tickWaits(oldest);
      } else oldest.replaceChildren(t("floor_nobody"));
      if (store.statsAt) $('[data-testid="floor-updated"]').textContent = t("floor_updated", { time: timeOf(store.statsAt) });
    }
    if (kind !== "teams") return;
    this.floor.show(store.teams, ids);
    this.floor.selected(store.teamFilter);
    tickWaits($('[data-testid="teams"]'));
  },
};

const agentsPanel = {
  body: $('[data-testid="agents"] tbody'),

  row(agent) {
    let tr = this.body.querySelector(`tr[data-agent="${agent.id}"]`);
    if (!tr) {
      tr = el("tr", { "data-agent": agent.id, "data-testid": `agent-row-${agent.id}` },
        el("td", { class: "agent-name", "data-label": t("agent") }),
        el("td", { "data-label": t("presence") }, el("span", { class: "dot" }), " ",
          el("span", { "data-testid": `agent-presence-${agent.id}` })),
        el("td", { "data-label": t("load"), "data-testid": `agent-load-${agent.id}` }));
      const after = [...this.body.rows].find((r) => agentName(store.agents.get(Number(r.dataset.agent)) || {}).localeCompare(agentName(agent)) > 0);
      this.body.insertBefore(tr, after || null);
    }
    return tr;
  },

  changed(kind, ids) {
    if (kind === "agents-removed") {
      for (const tr of [...this.body.rows]) if (!store.agents.has(Number(tr.dataset.agent))) tr.remove();
      return;
    }
    if (kind !== "agents") return;
    for (const id of ids || store.agents.keys()) {
      const agent = store.agents.get(id);
      if (!agent || agent.name === undefined) continue;
      const tr = this.row(agent);
      tr.querySelector(".agent-name").textContent = agentName(agent);
      tr.querySelector(".dot").dataset.presence = agent.presence;
      tr.querySelector(`[data-testid="agent-presence-${id}"]`).textContent = t(agent.presence);
      tr.querySelector(`[data-testid="agent-load-${id}"]`).textContent = `${agent.open_count}/${agent.capacity}`;
    }
  },
};

const where = (c) => whereText(c);

const conversationsPanel = {
  body: $('[data-testid="open-conversations"] tbody'),
  scroller: $('[data-testid="open-scroll"]'),

  // The assign list of conversation ``c`` starts empty (choosing is a decision, never a
  // default): its team's members first, then the other people, administrators only where
  // they are members. A choice already made stays while its person is listed.
  options(select, c) {
    const team = c?.team ?? null;
    const everyone = [...store.agents.values()].filter((a) => a.name !== undefined)
      .sort((a, b) => agentName(a).localeCompare(agentName(b)));
    const members = team === null ? [] : everyone.filter((a) => (a.teams || []).includes(team));
    const others = everyone.filter((a) => !members.includes(a) && a.role !== "admin");
    const option = (agent) => el("option", {
      value: agent.id, "data-presence": agent.presence,
      text: `${agentName(agent)} — ${presenceText(agent)}`,
    });
    const groups = [];
    if (members.length) {
      const name = c.team_name || store.teams.get(team)?.name || "";
      groups.push(el("optgroup", { label: t("assign_members", { team: name }), "data-group": "members" },
        ...members.map(option)));
    }
    if (others.length) {
      groups.push(el("optgroup", { label: members.length ? t("assign_others") : t("assign_people"), "data-group": "others" },
        ...others.map(option)));
    }
    const chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: t("choose_agent") }), ...groups);
    select.value = chosen;
    if (select.value !== chosen) select.dispatchEvent(new Event("change")); // its person left
  },

  row(c) {
    let tr = this.body.querySelector(`tr[data-conversation="${c.id}"]`);
    if (tr) return tr;
    const select = el("select", { "data-testid": `assign-agent-${c.id}`, "aria-label": t("assign_label", { contact: c.contact_name || `#${c.id}` }) });
    const button = el("button", { type: "button", "data-testid": `assign-${c.id}`, disabled: true, text: t("assign") });
    select.addEventListener("change", () => (button.disabled = !select.value));
    button.addEventListener("click", () => this.assign(c.id, select, button));
    const read = el("button", {
      type: "button", class: "read", "data-testid": `read-${c.id}`, text: t("read"),
      "aria-label": t("read_label", { contact: c.contact_name || `#${c.id}` }),
    });
    read.addEventListener("click", () => reader.open(store.conversations.get(c.id) || c));
    tr = el("tr", { "data-conversation": c.id, "data-testid": `open-conversation-${c.id}` },
      el("td", { "data-label": "#" }, el("span", { text: `#${c.id} ` }), read),
      el("td", { "data-label": t("contact"), class: "contact-cell" }),
      el("td", { "data-label": t("channel"), class: "channel-cell" }),
      el("td", { "data-label": t("where"), class: "where-cell" }),
      el("td", { "data-label": t("waiting_for"), class: "waited-cell" }),
      el("td", { "data-label": t("assign_to"), class: "assign-cell" }, select, " ", button));
    this.options(select, c);
    return tr;
  },

  async assign(id, select, button) {
    const agent = store.agents.get(Number(select.value));
    if (!agent) return;
    const warning = agentWarning(agent);
    if (warning && !(await confirmDialog(warning, { ok: t("assign_anyway") }))) return;
    button.disabled = true;
    const { ok, data: payload } = await api(`conversations/${id}/assign`, { method: "POST", body: { agent: agent.id } });
    toast(ok ? t("assigned_ok", { contact: payload.contact_name, name: agentName(agent) }) : payload?.detail || t("error"), { kind: ok ? "" : "error" });
    if (ok) {
      select.value = "";
      putConversation(payload);
    } else button.disabled = !select.value;
  },

  fill(tr, c) {
    const contact = tr.querySelector(".contact-cell");
    contact.replaceChildren(el("span", { text: c.contact_name || "" }),
      c.preferred_agent ? el("span", { class: "star", "data-testid": "star", text: ` ★ ${c.preferred_agent_name}` }) : "");
    tr.querySelector(".channel-cell").textContent = channelLabel(c.channel);
    const whereCell = tr.querySelector(".where-cell");
    whereCell.replaceChildren(where(c));
    if (c.status === "reserved" && c.reserved_until) {
      whereCell.append(el("span", { class: "muted" }, " · ", t("floor_released_in"), " ",
        el("span", { "data-until": c.reserved_until })));
    }
    if (tr.dataset.team !== String(c.team ?? "")) { // its team decides who is listed first
      tr.dataset.team = c.team ?? "";
      this.options(tr.querySelector("select"), c);
    }
    const since = ["waiting", "queued", "reserved"].includes(c.status) ? c.queued_at : null;
    tr.querySelector(".waited-cell").replaceChildren(since ? el("span", { "data-since": since }) : el("span", { class: "muted", text: "—" }));
  },

  changed(kind, ids) {
    if (kind === "agents" || kind === "agents-removed") {
      for (const select of this.body.querySelectorAll("select")) {
        const id = Number(select.closest("tr").dataset.conversation);
        this.options(select, store.conversations.get(id));
      }
      return;
    }
    if (kind === "conversations-reset") {
      this.body.replaceChildren();
      return;
    }
    if (kind !== "conversations") return;
    const order = sortedConversations();
    for (const id of ids) {
      const tr = this.body.querySelector(`tr[data-conversation="${id}"]`);
      if (!store.conversations.has(id)) tr?.remove();
    }
    // Rows in order, each node kept (moving a node keeps its select's state).
    let previous = null;
    for (const c of order) {
      const tr = this.row(c);
      if (ids.includes(c.id) || !tr.isConnected) this.fill(tr, c);
      const expected = previous ? previous.nextSibling : this.body.firstChild;
      if (expected !== tr) this.body.insertBefore(tr, expected);
      previous = tr;
    }
    $('[data-testid="open-count"]').textContent = store.moreConversations
      ? t("showing_n_more", { n: order.length }) : t("showing_n", { n: order.length });
    tickWaits(this.body);
    tickCountdowns(this.body);
    this.fillViewport();
  },

  fillViewport() {
    const box = this.scroller;
    if (store.moreConversations && !store.loadingConversations && box.scrollHeight - box.scrollTop - box.clientHeight < 300) {
      loadConversations();
    }
  },

  mount() {
    this.scroller.addEventListener("scroll", () => this.fillViewport());
  },
};

// ------------------------------------------------------------------ picking a team, reading

function pickTeam(id) {
  store.teamFilter = store.teamFilter === id ? null : id;
  const team = store.teams.get(store.teamFilter);
  $('[data-testid="open-title"]').textContent = team ? t("floor_team_title", { team: team.name }) : openTitle;
  $('[data-testid="show-all-teams"]').hidden = !team;
  floorPanel.floor.selected(store.teamFilter);
  loadConversations({ restart: true });
  if (team) $('[data-panel="conversations"]').scrollIntoView({ block: "start", behavior: "smooth" });
}
const openTitle = $('[data-testid="open-title"]').textContent;
$('[data-testid="show-all-teams"]').addEventListener("click", () => pickTeam(store.teamFilter));

const reader = createReader({
  where,
  options: (select, c) => conversationsPanel.options(select, c),
  assign: (id, select, button) => conversationsPanel.assign(id, select, button),
});
const readerPanel = {
  changed(kind) {
    if (kind === "agents" || kind === "agents-removed") reader.agentsChanged();
  },
};

const PANELS = [floorPanel, agentsPanel, conversationsPanel, readerPanel];

// ------------------------------------------------------------------ live events

const stats = statsFetcher(putStats);
let firstOpen = true;
const live = connectLive(
  (event) => {
    if (event.type === "queue.counts") {
      store.waiting = event.counts.waiting;
      changed("waiting");
      const fresh = putTeams(event.counts.teams);
      if (fresh.length) refreshDirectory();
      stats.soon();
    } else if (event.type === "agents.updated") {
      putAgents(event.agents);
      stats.soon();
    } else if (event.type === "conversation.updated") {
      putConversation(event.conversation);
      stats.soon();
    } else if (event.type === "message.created") reader.message(event.conversation, event.message);
    else if (event.type === "presence.changed") presence.show(event.status);
    else if (event.type === "error") toast(event.detail, { kind: "error" });
  },
  {
    onState: async (s) => {
      presence.connected(s === "open");
      if (s !== "open") return;
      await presence.refresh();
      if (!firstOpen) loadConversations({ restart: true });
      refreshDirectory();
      stats.soon();
      firstOpen = false;
    },
  },
);
const presence = presenceSwitch(live, me.presence);

PANELS.forEach((panel) => panel.mount?.());
putStats(data("stats-data"));
changed("agents");
loadConversations();
startTicking();
setInterval(() => !document.hidden && refreshDirectory(), DIRECTORY_REFRESH_MS);
setInterval(() => !document.hidden && stats.soon(), STATS_REFRESH_MS);
document.addEventListener("visibilitychange", () => !document.hidden && refreshDirectory());
document.body.dataset.ready = "true";
