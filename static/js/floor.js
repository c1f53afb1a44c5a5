// The floor: one card per team from GET stats/teams (queue and its oldest wait, reservations
// and when the first ends, members by presence, online load against capacity, the last
// hour's assignments, median wait and share within target, open or closed, and the queue
// depth of the last hour as an inline SVG chart), and Waiting's count and oldest wait.
// Cards are made once and updated in place; waits tick every second ([data-since] through
// common.js, countdowns through [data-until] here).
import {
  $, $$, LANG, api, durationText as compactDuration, el, shortDayOf, t, timeOf,
} from "./common.js";

const CHART = { width: 300, height: 80, minutes: 60, ticks: 4 };
const percent = new Intl.NumberFormat(LANG, { style: "percent", maximumFractionDigits: 0 });

// A number of seconds compactly, rounded to the nearest second, as common.js writes waits.
export const durationText = (seconds) => compactDuration(Math.round(seconds));

// Every bare [data-until] element (no data-text: common.js ticks the labelled countdowns)
// shows how long until its time (0 once passed).
export function tickCountdowns(root = document) {
  const now = Date.now();
  for (const node of $$("[data-until]:not([data-text])", root)) {
    node.textContent = durationText((Date.parse(node.dataset.until) - now) / 1000);
  }
}

function whenText(iso) {
  const day = new Date(iso).toDateString() === new Date().toDateString() ? "" : `${shortDayOf(iso)} `;
  return `${day}${timeOf(iso)}`;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

// The last 60 minutes of the team's queue, one snapshot a minute and now at the right end:
// the queued conversations (an area) and those reserved for a busy preferred agent (a dashed
// line), over a time axis of clock times every 15 minutes, with the scale's top on the left
// and a legend with the values now.
function drawChart(box, team, queuedNow, reservedNow) {
  const now = Date.now();
  const start = now - CHART.minutes * 60000;
  const points = (team.depth_last_hour || [])
    .map(([at, queued, reserved]) => [Date.parse(at), queued, reserved ?? 0])
    .filter(([time]) => time >= start);
  points.push([now, queuedNow, reservedNow]);
  const highest = Math.max(1, ...points.map(([, queued, reserved]) => Math.max(queued, reserved)));
  const bottom = CHART.height - 1;
  const x = (time) => (((time - start) / (now - start)) * CHART.width).toFixed(1);
  const y = (n) => (bottom - (n / highest) * (CHART.height - 6)).toFixed(1);
  const series = (index) => points.map((point) => `${x(point[0])},${y(point[index])}`).join(" ");
  const chart = svg("svg", {
    viewBox: `0 0 ${CHART.width} ${CHART.height}`, preserveAspectRatio: "none",
    class: "depth-chart", role: "img", "data-testid": `floor-chart-${team.id}`,
    "data-points": points.length,
  });
  const label = t("floor_chart", {
    max: Math.max(...points.map(([, queued]) => queued)),
    reserved: Math.max(...points.map(([, , reserved]) => reserved)),
  });
  chart.setAttribute("aria-label", label);
  chart.append(svg("title"));
  chart.firstChild.textContent = label;
  for (let tick = 0; tick <= CHART.ticks; tick += 1) {
    const at = (CHART.width * tick / CHART.ticks).toFixed(1);
    chart.append(svg("line", { x1: at, x2: at, y1: 0, y2: bottom, class: "grid" }));
  }
  chart.append(svg("line", { x1: 0, x2: CHART.width, y1: y(highest), y2: y(highest), class: "grid" }));
  chart.append(svg("line", { x1: 0, x2: CHART.width, y1: bottom, y2: bottom, class: "axis" }));
  chart.append(svg("polygon", {
    points: `${x(points[0][0])},${bottom} ${series(1)} ${x(now)},${bottom}`, class: "area",
  }));
  chart.append(svg("polyline", { points: series(1), class: "line" }));
  chart.append(svg("polyline", { points: series(2), class: "reserved", "data-testid": `floor-chart-reserved-${team.id}` }));
  const times = [];
  for (let tick = 0; tick <= CHART.ticks; tick += 1) {
    times.push(el("span", { text: timeOf(new Date(start + (now - start) * tick / CHART.ticks).toISOString()) }));
  }
  box.replaceChildren(
    el("div", { class: "chart-plot" },
      chart,
      el("span", { class: "chart-max", "data-testid": `floor-chart-max-${team.id}`, text: String(highest) }),
      el("span", { class: "chart-zero", text: "0" })),
    el("div", { class: "chart-times", "data-testid": `floor-chart-times-${team.id}` }, ...times),
    el("div", { class: "chart-legend" },
      el("span", { class: "key queued" }, t("floor_chart_queued", { n: queuedNow })),
      el("span", { class: "key reserved", "data-testid": `floor-chart-legend-reserved-${team.id}` },
        t("floor_chart_reserved", { n: reservedNow }))));
}

function figure(label, testid, extra = {}) {
  return el("div", { class: "figure" },
    el("dt", { text: label }),
    el("dd", { "data-testid": testid, ...extra }));
}

export function createFloor({ onPick, onDistribute }) {
  const grid = $('[data-testid="teams"]');
  const cards = new Map();

  function card(team) {
    let node = cards.get(team.id);
    if (node) return node;
    const id = team.id;
    grid.querySelector(`[data-team="${id}"]`)?.remove(); // the page's first, plain rendering
    node = el("article", { class: "team-card", "data-team": id, "data-testid": `team-row-${id}` },
      el("header", { class: "team-card-head" },
        el("h3", {}, el("button", {
          type: "button", class: "team-name link", "data-pick": id, "data-testid": `floor-open-${id}`,
        })),
        el("span", { class: "floor-state", "data-testid": `floor-state-${id}` })),
      el("div", { class: "team-queue" },
        el("span", { class: "big", "data-testid": `backlog-${id}` }),
        el("span", { class: "muted", text: t("floor_waiting_now") }),
        el("span", { class: "oldest", "data-testid": `floor-oldest-${id}` })),
      el("div", { class: "chart-box", "data-testid": `floor-chart-box-${id}` }),
      el("dl", { class: "figures" },
        figure(t("floor_reserved"), `floor-reserved-${id}`),
        figure(t("floor_assigned"), `floor-assigned-${id}`),
        figure(t("floor_agents"), `floor-agents-${id}`),
        figure(t("load"), `floor-load-${id}`)),
      el("div", { class: "last-hour" },
        el("h4", { text: t("floor_last_hour") }),
        el("dl", { class: "figures three" },
          figure(t("floor_assigned_hour"), `floor-assigned-hour-${id}`),
          figure(t("floor_median"), `floor-median-${id}`),
          figure(t("floor_within"), `floor-target-${id}`)),
        el("p", { class: "past-target", "data-testid": `floor-past-target-${id}`, hidden: true })),
      el("footer", { class: "team-card-foot" },
        el("button", { type: "button", "data-pick": id, text: t("floor_show") }),
        el("button", { type: "button", "data-testid": `distribute-${id}`, "data-distribute": id, text: t("distribute") }),
        el("span", { class: "muted", "data-testid": `distributed-${id}`, "aria-live": "polite" })));
    cards.set(id, node);
    return node;
  }

  function place(node, team, teams) {
    const after = [...grid.children].find((other) => {
      const name = teams.get(Number(other.dataset.team))?.name;
      return name !== undefined && name.localeCompare(team.name) > 0;
    });
    if (node.nextSibling !== after || !node.isConnected) grid.insertBefore(node, after || null);
  }

  function fill(node, team) {
    const id = team.id;
    const q = (name) => node.querySelector(`[data-testid="${name}-${id}"]`);
    node.querySelector(".team-name").textContent = team.name;
    node.classList.toggle("has-queue", team.queued > 0);
    q("backlog").textContent = team.queued ?? 0;
    const oldest = q("floor-oldest");
    if (team.queued > 0 && team.oldest_queued_at) {
      oldest.replaceChildren(t("floor_oldest"), " ", el("strong", { "data-since": team.oldest_queued_at }));
    } else oldest.replaceChildren(t("floor_nobody"));
    if (!team.stats) return; // only the counts so far (a team created after the last figures)
    const state = q("floor-state");
    state.dataset.open = team.open_now;
    state.textContent = team.open_now ? t("floor_open")
      : team.opens_at ? t("floor_closed_until", { when: whenText(team.opens_at) }) : t("floor_closed");
    const reserved = q("floor-reserved");
    reserved.replaceChildren(String(team.reserved));
    if (team.reserved && team.next_release_at) {
      reserved.append(el("span", { class: "muted small" }, " · ", t("floor_release_in"), " ",
        el("span", { "data-until": team.next_release_at, "data-testid": `floor-release-${id}` })));
    }
    q("floor-assigned").textContent = team.assigned;
    q("floor-agents").replaceChildren(
      ...["online", "away", "offline"].flatMap((presence, index) => [
        index ? " " : "",
        el("span", { class: "presence-count", title: t(presence) },
          el("span", { class: "dot", "data-presence": presence }), ` ${team.agents[presence] ?? 0}`,
          el("span", { class: "visually-hidden", text: ` ${t(presence)}` })),
      ]));
    // Every member's open conversations (one who went away or offline still has theirs)
    // against the room of the online ones.
    const load = q("floor-load");
    const share = team.capacity ? Math.min(1, team.load / team.capacity) : team.load ? 1 : 0;
    const bar = el("span", { class: share >= 1 ? "full" : "" });
    bar.style.width = `${Math.round(share * 100)}%`; // a CSSOM property: allowed by the CSP
    load.replaceChildren(`${team.load}/${team.capacity}`,
      team.load_not_online ? el("span", {
        class: "muted small away-load", "data-testid": `floor-load-away-${id}`,
        text: t("floor_load_not_online", { n: team.load_not_online }),
      }) : "",
      el("span", { class: "meter", "aria-hidden": "true" }, bar));
    q("floor-assigned-hour").textContent = team.assigned_last_hour;
    q("floor-median").textContent = team.median_wait_seconds_last_hour === null ? "—"
      : durationText(team.median_wait_seconds_last_hour);
    const target = q("floor-target");
    target.replaceChildren(
      el("span", { class: "pct", text: team.answered_within_target_pct === null ? "—"
        : percent.format(team.answered_within_target_pct / 100) }),
      el("span", { class: "muted small target", text: t("floor_target", { target: durationText(team.answer_target_seconds) }) }));
    // Customers still in the queue past the target count against it: said in words too.
    const past = q("floor-past-target");
    past.hidden = !team.waiting_past_target;
    past.textContent = team.waiting_past_target ? t("floor_past_target", { n: team.waiting_past_target }) : "";
    target.dataset.level = team.answered_within_target_pct === null ? ""
      : team.answered_within_target_pct >= 80 ? "good" : team.answered_within_target_pct >= 50 ? "fair" : "poor";
    drawChart(q("floor-chart-box"), team, team.queued ?? 0, team.reserved ?? 0);
  }

  grid.addEventListener("click", (event) => {
    const distribute = event.target.closest("[data-distribute]");
    if (distribute) return onDistribute(Number(distribute.dataset.distribute), distribute);
    const pick = event.target.closest("[data-pick]");
    if (pick) onPick(Number(pick.dataset.pick));
  });
  setInterval(() => tickCountdowns(grid.closest("main") || document), 1000);

  return {
    // teams: the store's Map of id -> team (counts and, once fetched, the figures).
    show(teams, ids = null) {
      for (const id of ids || teams.keys()) {
        const team = teams.get(id);
        if (!team) continue;
        const node = card(team);
        fill(node, team);
        place(node, team, teams);
      }
      for (const [id, node] of cards) {
        if (!teams.has(id)) {
          node.remove();
          cards.delete(id);
        }
      }
      $('[data-testid="no-teams"]').hidden = teams.size > 0;
      tickCountdowns(grid);
    },
    selected(id) {
      for (const [teamId, node] of cards) node.classList.toggle("selected", teamId === id);
    },
  };
}

// GET stats/teams, at most once per `gap` ms however many events ask for it.
export function statsFetcher(onStats, { gap = 1000 } = {}) {
  let timer = null;
  let last = 0;
  let running = false;
  let again = false;
  async function run() {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = true;
    last = Date.now();
    const answer = await api("stats/teams");
    running = false;
    if (answer.ok) onStats(answer.data);
    if (again) {
      again = false;
      soon();
    }
  }
  function soon() {
    if (timer) return;
    timer = setTimeout(run, Math.max(150, gap - (Date.now() - last)));
  }
  return { soon, now: run };
}
