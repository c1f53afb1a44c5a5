// The simulation page: one store (the run asked for, its progress, its figures) and panels
// drawn from it: the form, the progress, the charts and the side-by-side tables. The run
// goes through the simulations API (POST simulations/, then GET simulations/{id} until done).
import { $, $$, api, data, el, t } from "./common.js";
import { groupedBarChart, lineChart } from "./charts.js";

const page = data("page-data");
const form = $("[data-testid=simulation-form]");
const POLL_MS = 500;

// ------------------------------------------------------------------ the store

const store = { running: false, progress: 0, error: null, result: null };

function changed(kind) {
  for (const panel of PANELS) panel.changed?.(kind);
}

const numberOf = (name) => {
  const value = form.elements[name]?.value;
  return value === "" || value === undefined ? null : Number(value);
};

// The request of api.md "Simulations, exactly", from the form.
export function requestFrom() {
  const hours = numberOf("hours") || 8;
  const source = form.elements.source.value;
  const teams = page.teams.filter((team) => (numberOf(`rate-${team.id}`) || 0) > 0).map((team) => {
    const mean = numberOf(`handle-${team.id}`) || 300;
    const kind = form.elements[`distribution-${team.id}`].value;
    const patience = numberOf(`patience-${team.id}`);
    return {
      team: team.id, arrivals_per_hour: numberOf(`rate-${team.id}`),
      handle_seconds: kind === "fixed" ? { distribution: "fixed", value: mean }
        : kind === "lognormal" ? { distribution: "lognormal", mean, sd: mean }
          : { distribution: "exponential", mean },
      patience_seconds: patience ? { distribution: "exponential", mean: patience } : null,
    };
  });
  const traffic = source === "history"
    ? { history: { from: form.elements.from.value, to: form.elements.to.value } }
    : { synthetic: { seconds: hours * 3600, teams } };
  const scenario = { teams: {}, agents: {} };
  for (const team of page.teams) {
    const mode = form.elements[`mode-${team.id}`].value;
    const pickUp = numberOf(`pickup-${team.id}`);
    const changes = {};
    if (mode !== team.distribution_mode) changes.distribution_mode = mode;
    if (pickUp !== null && pickUp !== 30) changes.pick_up_seconds = pickUp;
    const sticky = numberOf(`sticky-${team.id}`);
    if (sticky !== (team.sticky_days ?? null)) changes.sticky_days = sticky;
    const ladder = form.elements[`ladder-${team.id}`].value.trim() || "[]";
    if (ladder !== team.ladder) {
      try {
        changes.ladder = JSON.parse(ladder);
      } catch (error) {
        throw new Error(t("ladder_invalid", { team: team.name }));
      }
    }
    if (Object.keys(changes).length) scenario.teams[String(team.id)] = changes;
  }
  for (const agent of page.agents) {
    const capacity = numberOf(`capacity-${agent.id}`);
    if (capacity !== null && capacity !== agent.capacity) scenario.agents[String(agent.id)] = { capacity };
  }
  const extra = numberOf("extra") || 0;
  for (let n = 1; n <= extra; n += 1) {
    scenario.agents[`+${n}`] = {
      teams: [Number(form.elements["extra-team"].value)], capacity: numberOf("extra-capacity") || 1,
      online: [[(numberOf("extra-from") || 0) * 3600, (numberOf("extra-to") ?? hours) * 3600]],
    };
  }
  return { traffic, scenario, seed: numberOf("seed") || 0 };
}

async function run() {
  let request;
  try {
    request = requestFrom();
  } catch (error) {
    Object.assign(store, { error: error.message, result: null });
    changed("answer");
    return;
  }
  if (request.traffic.synthetic && !request.traffic.synthetic.teams.length) {
    Object.assign(store, { error: t("no_teams"), result: null });
    changed("answer");
    return;
  }
  Object.assign(store, { running: true, progress: 0, error: null, result: null });
  changed("progress");
  let answer = await api("simulations/", { method: "POST", body: request });
  while (answer.ok && answer.data.status === "running") {
    store.progress = answer.data.progress;
    changed("progress");
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    answer = await api(`simulations/${answer.data.id}`);
  }
  store.running = false;
  if (!answer.ok) store.error = answer.data?.detail || t("network_error");
  else if (answer.data.status === "failed") store.error = t("failed", { error: answer.data.error });
  else store.result = answer.data;
  changed("answer");
  document.body.dataset.ready = "true";
}

// ------------------------------------------------------------------ how figures read

const dash = (value) => value === null || value === undefined;
const seconds = (value) => (dash(value) ? "–" : t("seconds_short", { n: Math.round(value * 10) / 10 }));
const share = (value) => (dash(value) ? "–" : `${Math.round(value * 1000) / 10}%`);
const pct = (value) => (dash(value) ? "–" : `${value}%`);
const number = (value) => (dash(value) ? "–" : value.toLocaleString());
const FIGURES = [
  ["conversations", number], ["served", number], ["abandoned", number], ["unserved", number],
  ["waited_share", share], ["wait_mean", seconds], ["wait_p50", seconds], ["wait_p90", seconds],
  ["wait_p95", seconds], ["within_target_pct", pct], ["occupancy", share],
  ["evenness", (v) => (dash(v) ? "–" : v.toFixed(2))], ["by_step", (v) => (v || []).join(" / ")],
];

// ------------------------------------------------------------------ panels

const formPanel = {
  changed() {
    $("[data-testid=simulation-run]").disabled = store.running;
    const error = $("[data-testid=simulation-error]");
    error.hidden = !store.error;
    error.textContent = store.error || "";
    const bar = $("[data-testid=simulation-progress]");
    bar.hidden = !store.running;
    bar.value = store.progress;
    $("[data-testid=simulation-status]").textContent = store.running
      ? t("running", { pct: `${Math.round(store.progress * 100)}%` }) : store.result ? t("done") : "";
  },
};

const resultsPanel = {
  changed(kind) {
    if (kind !== "answer") return;
    const section = $("[data-panel=results]");
    section.hidden = !store.result;
    if (!store.result) return;
    const { baseline, scenario } = store.result;
    const table = $("[data-testid=simulation-results]");
    table.tHead.replaceChildren(el("tr", {}, el("th", { scope: "col", text: t("figure") }),
      el("th", { scope: "col", text: t("baseline") }), el("th", { scope: "col", text: t("scenario") })));
    const scopes = [[t("overall"), baseline.overall, scenario.overall, "overall"]];
    baseline.teams.forEach((team, n) => {
      if (team.conversations || scenario.teams[n].conversations) scopes.push([team.name, team, scenario.teams[n], team.team]);
    });
    const rows = [];
    for (const [name, left, right, key] of scopes) {
      rows.push(el("tr", { class: "total scope" }, el("th", { scope: "colgroup", colspan: 3, text: name })));
      for (const [figure, show] of FIGURES) {
        rows.push(el("tr", { "data-scope": key, "data-figure": figure },
          el("th", { scope: "row", text: t(figure) }),
          el("td", { text: show(left[figure]), "data-side": "baseline" }),
          el("td", { text: show(right[figure]), "data-side": "scenario" })));
      }
    }
    table.tBodies[0].replaceChildren(...rows);
    const agents = $("[data-testid=simulation-agent-results]");
    agents.tHead.replaceChildren(el("tr", {}, el("th", { scope: "col", text: t("agent") }),
      ...["baseline", "scenario"].flatMap((side) => [
        el("th", { scope: "col", text: `${t("served")} · ${t(side)}` }),
        el("th", { scope: "col", text: `${t("occupancy")} · ${t(side)}` })])));
    const names = [...new Set([...baseline.agents, ...scenario.agents].map((a) => a.name))];
    const find = (list, name) => list.find((a) => a.name === name) || {};
    agents.tBodies[0].replaceChildren(...names.map((name) => el("tr", {},
      el("th", { scope: "row", text: name }),
      ...[baseline, scenario].flatMap((side) => [
        el("td", { text: number(find(side.agents, name).served) }),
        el("td", { text: share(find(side.agents, name).occupancy) })]))));
  },
};

function histogramLabels(edges) {
  return edges.map((edge, n) => (n + 1 < edges.length
    ? (edges[n + 1] - edge === 1 ? `${edge}` : `${edge}–${edges[n + 1]}`) : `≥${edge}`));
}

const chartsPanel = {
  changed(kind) {
    if (kind !== "answer") return;
    const section = $("[data-panel=charts]");
    section.hidden = !store.result;
    if (!store.result) return;
    const { baseline, scenario } = store.result;
    const sides = [[t("baseline"), baseline], [t("scenario"), scenario]];
    const depth = baseline.queue_depth;
    const labels = depth.overall.map((_, n) => t("hour_short", { n: Math.round((n * depth.bucket_seconds) / 360) / 10 }));
    $("[data-testid=simulation-charts]").replaceChildren(
      groupedBarChart({
        title: t("chart_histogram"), labels: histogramLabels(baseline.histogram.edges).map((l) => `${l} s`),
        series: sides.map(([name, side]) => ({ name, values: side.histogram.counts })),
        format: (v) => Math.round(v).toLocaleString(),
      }),
      lineChart({
        title: t("chart_depth"), labels,
        series: sides.map(([name, side]) => ({ name, values: side.queue_depth.overall })),
        format: (v) => (Math.round(v * 10) / 10).toLocaleString(),
      }),
    );
  },
};

const PANELS = [formPanel, resultsPanel, chartsPanel];

for (const radio of $$("input[name=source]", form)) {
  radio.addEventListener("change", () => {
    for (const part of $$("[data-source]", form)) part.hidden = part.dataset.source !== form.elements.source.value;
  });
}
form.addEventListener("submit", (event) => {
  event.preventDefault();
  run();
});
document.body.dataset.ready = "true";
