// The supervisor view: every team's backlog, every agent's presence and load, assignment.
import { $, api, connectLive, data, el, presenceSwitch, results, t, toast } from "./common.js";

const me = data("me-data");
const agents = new Map(data("agents-data").map((a) => [a.id, a]));
const open = new Map(); // open conversations by id
const table = $('[data-testid="open-conversations"] tbody');

function where(c) {
  if (c.status === "assigned") return t("assigned_to", { name: c.assignee_name });
  if (c.status === "reserved") return t("reserved_for", { name: c.preferred_agent_name });
  if (c.status === "queued") return t("queued_in", { team: c.team_name });
  return t("waiting");
}

function agentOptions(selected) {
  return [...agents.values()].map((a) =>
    el("option", { value: a.id, selected: a.id === selected, text: `${a.name} (${a.open_count}/${a.capacity})` }),
  );
}

function conversationRow(c) {
  const select = el("select", { "data-testid": `assign-agent-${c.id}` }, ...agentOptions(c.assignee));
  const button = el("button", {
    type: "button",
    "data-testid": `assign-${c.id}`,
    text: "→",
    onclick: async () => {
      const { ok, data: payload } = await api(`conversations/${c.id}/assign`, { method: "POST", body: { agent: Number(select.value) } });
      toast(ok ? t("assigned_ok") : payload?.detail || t("error"));
    },
  });
  return el(
    "tr",
    { "data-testid": `open-conversation-${c.id}` },
    el("td", { text: `#${c.id}` }),
    el("td", {}, el("span", { text: c.contact_name || "" }), c.preferred_agent ? el("span", { class: "star", text: ` ★ ${c.preferred_agent_name}` }) : null),
    el("td", { text: where(c) }),
    el("td", {}, select, button),
  );
}

function renderConversations() {
  const rows = [...open.values()].sort((a, b) => a.id - b.id).map(conversationRow);
  table.replaceChildren(...rows);
}

async function loadConversations() {
  open.clear();
  for (const status of ["waiting", "queued", "reserved", "assigned"]) {
    const { ok, data: payload } = await api(`conversations/?status=${status}`);
    if (ok) results(payload).forEach((c) => open.set(c.id, c));
  }
  renderConversations();
}

function showAgent(agent) {
  agents.set(agent.id, { ...(agents.get(agent.id) || {}), ...agent });
  const presence = $(`[data-testid="agent-presence-${agent.id}"]`);
  if (presence) {
    presence.textContent = t(agent.presence);
    presence.previousElementSibling.dataset.presence = agent.presence;
  }
  const load = $(`[data-testid="agent-load-${agent.id}"]`);
  if (load) load.textContent = `${agent.open_count}/${agent.capacity}`;
}

function showCounts(counts) {
  $('[data-testid="count-waiting"]').textContent = counts.waiting;
  for (const team of counts.teams) {
    const cell = $(`[data-testid="backlog-${team.id}"]`);
    if (cell) cell.textContent = team.queued;
  }
}

document.addEventListener("click", async (event) => {
  const teamId = event.target.dataset?.distribute;
  if (!teamId) return;
  const { ok, data: payload } = await api(`teams/${teamId}/distribute`, { method: "POST", body: {} });
  $(`[data-testid="distributed-${teamId}"]`).textContent = ok ? t("distributed", { n: payload.assigned }) : payload?.detail || t("error");
});

const live = connectLive(
  (event) => {
    if (event.type === "queue.counts") showCounts(event.counts);
    else if (event.type === "agents.updated") {
      event.agents.forEach(showAgent);
      renderConversations();
    } else if (event.type === "conversation.updated") {
      const c = event.conversation;
      if (c.status === "closed") open.delete(c.id);
      else open.set(c.id, c);
      renderConversations();
    } else if (event.type === "presence.changed") presence.show(event.status);
  },
  { onState: (s) => s === "open" && loadConversations() },
);
const presence = presenceSwitch(live, me.presence);
[...agents.values()].forEach(showAgent);
