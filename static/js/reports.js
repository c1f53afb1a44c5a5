// The Reports page: one store (the question asked and the answers of reports/teams and
// reports/agents) and panels that draw from it: the question, the charts, the teams table
// and the agents table. A supervisor sees every team and agent; an agent their own figures.
import { $, api, data, el, t } from "./common.js";
import { barChart, lineChart } from "./charts.js";

const me = data("me-data");
const form = $("[data-testid=report-form]");

// ------------------------------------------------------------------ the store

const store = { question: null, teams: null, agents: null, loading: false, error: null };

function changed(kind) {
  for (const panel of PANELS) panel.changed?.(kind);
}

function readQuestion() {
  const fields = new FormData(form);
  return {
    from: fields.get("from"), to: fields.get("to"), group: fields.get("group") || "day",
    team: fields.getAll("team"),
  };
}

function queryOf(question, extra = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...question, ...extra })) {
    for (const one of Array.isArray(value) ? value : [value]) if (one) params.append(key, one);
  }
  return params.toString();
}

async function ask() {
  store.question = readQuestion();
  store.loading = true;
  store.error = null;
  changed("question");
  const wanted = [api(`reports/agents?${queryOf(store.question)}`)];
  if (me.is_supervisor) wanted.push(api(`reports/teams?${queryOf(store.question)}`));
  const [agents, teams] = await Promise.all(wanted);
  store.loading = false;
  const refused = [agents, teams].find((answer) => answer && !answer.ok);
  if (refused) {
    store.error = refused.data?.detail || t("network_error");
  } else {
    store.agents = agents.data;
    store.teams = teams ? teams.data : null;
  }
  changed("answers");
  document.body.dataset.ready = "true";
}

// ------------------------------------------------------------------ how figures read

const seconds = (value) => (value === null || value === undefined ? "–" : durationShort(value));
const pct = (value) => (value === null || value === undefined ? "–" : `${value.toLocaleString()}%`);
const number = (value) => (value === null || value === undefined ? "–" : value.toLocaleString());

function durationShort(total) {
  if (total < 120) return t("seconds_short", { n: total });
  const hours = Math.floor(total / 3600);
  const minutes = Math.round((total % 3600) / 60);
  return hours ? `${hours} h ${String(minutes).padStart(2, "0")} min` : `${minutes} min`;
}

function periodLabel(period, group) {
  if (!period) return t("total");
  return group === "hour" ? period.replace("T", " ") : period;
}

// ------------------------------------------------------------------ panels

const questionPanel = {
  changed(kind) {
    $("[data-testid=report-show]").disabled = store.loading;
    $("[data-testid=report-status]").textContent = store.loading ? t("loading") : "";
    const error = $("[data-testid=report-error]");
    error.hidden = !store.error;
    error.textContent = store.error || "";
    if (store.question) {
      const csv = $("[data-testid=report-csv]");
      const path = me.is_supervisor ? "teams" : "agents";
      csv.href = `/api/v1/reports/${path}?${queryOf(store.question, { format: "csv" })}`;
    }
  },
};

function headRow(table, names) {
  table.tHead.replaceChildren(el("tr", {}, ...names.map((name) => el("th", { scope: "col", text: name }))));
}

const TEAM_COLUMNS = [
  ["conversations", number], ["served", number], ["abandoned", number],
  ["wait_p50", seconds], ["wait_p90", seconds], ["first_response_p50", seconds],
  ["first_response_p90", seconds], ["resolution_p50", seconds], ["within_target_pct", pct],
  ["transfers", number], ["handovers", number], ["requeues", number], ["overflowed", number],
];

const teamsPanel = {
  changed(kind) {
    if (kind !== "answers" || !store.teams) return;
    const table = $("[data-testid=report-table]");
    headRow(table, [t("team"), t("period"), ...TEAM_COLUMNS.map(([key]) => t(key)), t("rating")]);
    const group = store.teams.group;
    const line = (row, period) => el("tr", { "data-team": row.team, "data-period": period || "total", class: period ? "" : "total" },
      el("th", { scope: "row", text: row.team_name }),
      el("td", { text: periodLabel(period, group) }),
      ...TEAM_COLUMNS.map(([key, show]) => el("td", { text: show(row[key]), "data-figure": key })),
      el("td", { text: row.ratings ? `${row.rating_avg.toFixed(1)} (${t("ratings_count", { n: row.ratings })})` : "–" }));
    const body = [];
    for (const total of store.teams.totals) {
      for (const row of store.teams.rows.filter((r) => r.team === total.team)) body.push(line(row, row.period));
      body.push(line(total, null));
    }
    table.tBodies[0].replaceChildren(...body);
  },
};

const chartsPanel = {
  changed(kind) {
    if (kind !== "answers" || !store.teams) return;
    const { rows, totals, group } = store.teams;
    const periods = [...new Set(rows.map((row) => row.starts_at))];
    const labelOf = new Map(rows.map((row) => [row.starts_at, row.period]));
    const labels = periods.map((start) => {
      const period = labelOf.get(start);
      return group === "hour" ? period.slice(11) : period.slice(5);
    });
    const byTeam = (key) => totals.map((total) => ({
      name: total.team_name,
      values: periods.map((start) => rows.find((r) => r.team === total.team && r.starts_at === start)?.[key] ?? null),
    }));
    const volume = periods.map((start) => rows.filter((r) => r.starts_at === start).reduce((sum, r) => sum + r.conversations, 0));
    $("[data-testid=report-charts]").replaceChildren(
      barChart({ title: t("chart_volume"), labels, values: volume, format: (v) => Math.round(v).toLocaleString() }),
      lineChart({ title: t("chart_wait"), labels, series: byTeam("wait_p90"), format: (v) => Math.round(v).toLocaleString() }),
      lineChart({ title: t("chart_target"), labels, series: byTeam("within_target_pct"), format: (v) => `${Math.round(v)}%`, max: 100 }),
    );
  },
};

const AGENT_COLUMNS = [
  ["served", number], ["first_response_p50", seconds], ["online_seconds", seconds],
  ["away_seconds", seconds], ["busy_seconds", seconds],
  ["occupancy", (v) => (v === null || v === undefined ? "–" : `${Math.round(v * 100)}%`)],
];
const AGENT_TITLES = ["served", "first_response_p50", "online", "away", "busy", "occupancy"];

const agentsPanel = {
  changed(kind) {
    if (kind !== "answers" || !store.agents) return;
    const table = $("[data-testid=report-agents]");
    const mine = !me.is_supervisor;
    headRow(table, [mine ? t("period") : t("agent"), ...AGENT_TITLES.map((key) => t(key)), t("rating")]);
    const line = (row, label, total) => el("tr", { "data-agent": row.agent, class: total ? "total" : "" },
      el("th", { scope: "row", text: label }),
      ...AGENT_COLUMNS.map(([key, show]) => el("td", { text: show(row[key]), "data-figure": key })),
      el("td", { text: row.ratings ? `${row.rating_avg.toFixed(1)} (${t("ratings_count", { n: row.ratings })})` : "–" }));
    const body = mine
      ? [...store.agents.rows.map((row) => line(row, periodLabel(row.period, store.agents.group), false)),
        ...store.agents.totals.map((row) => line(row, t("total"), true))]
      : store.agents.totals.map((row) => line(row, row.agent_name, false));
    if (!body.length) body.push(el("tr", {}, el("td", { colspan: 8, class: "muted", text: t("nothing") })));
    table.tBodies[0].replaceChildren(...body);
  },
};

const PANELS = [questionPanel, teamsPanel, chartsPanel, agentsPanel];

form.addEventListener("submit", (event) => {
  event.preventDefault();
  ask();
});
ask();
