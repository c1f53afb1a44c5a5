// The queues column: Waiting, the agent's team queues (each with its alert bell), Mine and
// Reserved for me, with live counts; the chosen queue's title and whether its team is open.
import { $, $$, el, t } from "../common.js";
import { teamStateText } from "./pane.js";
import { teamOf } from "./store.js";

const SVG = "http://www.w3.org/2000/svg";

function bell() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "bell");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M12 3a6 6 0 0 0-6 6v4l-2 3h16l-2-3V9a6 6 0 0 0-6-6zm-2 15a2 2 0 0 0 4 0z");
  svg.append(path);
  return svg;
}

// The team queues whose new work announces itself, remembered per person in this browser.
export function alertMemory(meId) {
  const key = `atende.queue-alerts.${meId}`;
  return {
    load() {
      try {
        const ids = JSON.parse(localStorage.getItem(key));
        return Array.isArray(ids) ? ids.filter(Number.isInteger) : [];
      } catch (error) {
        return [];
      }
    },
    save(ids) {
      localStorage.setItem(key, JSON.stringify([...ids]));
    },
  };
}

// onChoose(queue); onAlert(teamId): the bell of a team queue was pressed.
export function createQueues({ state, onChoose, onAlert }) {
  const box = $('[data-part="team-queues"]');

  function renderBell(line, team) {
    let button = $('[data-part="queue-alert"]', line);
    if (!button) {
      button = el("button", {
        type: "button", class: "queue-alert", "data-part": "queue-alert", "data-team": team.id,
        "data-testid": `queue-alert-${team.id}`,
      });
      button.append(bell(), el("span", { class: "visually-hidden" }));
      line.append(button);
    }
    const on = state.alerts.has(team.id);
    const label = t(on ? "queue_alert_on" : "queue_alert_off", { team: team.name });
    button.setAttribute("aria-pressed", String(on));
    button.title = label;
    $(".visually-hidden", button).textContent = label;
  }

  function teamLine(team) {
    let line = $(`[data-part="team-queue"][data-team="${team.id}"]`, box);
    if (!line) {
      $("p.muted", box)?.remove();
      line = el("div", { class: "queue-line", "data-part": "team-queue", "data-team": team.id },
        el("button", { type: "button", class: "queue", "data-queue": `team:${team.id}`, "data-testid": `queue-team-${team.id}` },
          el("span", { class: "queue-name" }),
          el("span", { class: "count", "data-part": "count", "data-testid": `count-team-${team.id}` })));
      box.append(line);
    }
    return line;
  }

  // The counts of the store, and a line per team queue of the agent's (those they left go).
  function showCounts() {
    const { counts } = state;
    for (const scope of ["waiting", "mine", "reserved_for_me"]) {
      $(`[data-part="count"][data-count="${scope}"]`).textContent = counts[scope];
    }
    const listed = new Set(counts.teams.map((team) => String(team.id)));
    for (const team of counts.teams) {
      const line = teamLine(team);
      $(".queue-name", line).textContent = team.name;
      $('[data-part="count"]', line).textContent = team.queued;
      renderBell(line, team);
    }
    for (const line of $$('[data-part="team-queue"]', box)) {
      if (!listed.has(line.dataset.team)) line.remove();
    }
  }

  function renderTeamState() {
    const stateBox = $('[data-part="team-state"]');
    const team = teamOf(state.queue);
    const text = teamStateText(team === null ? null : state.teams.get(team));
    stateBox.textContent = text;
    stateBox.hidden = !text;
  }

  function title() {
    if (state.queue === "search") return t("search_results", { q: state.search });
    const button = $(`[data-queue="${state.queue}"] .queue-name`);
    return button ? button.textContent : "";
  }

  function chosen() {
    $$("[data-queue]").forEach((b) => b.classList.toggle("active", b.dataset.queue === state.queue));
    $('[data-part="list-title"]').textContent = title();
    renderTeamState();
  }

  document.addEventListener("click", (event) => {
    const alert = event.target.closest('[data-part="queue-alert"]');
    if (alert) return onAlert(Number(alert.dataset.team));
    const queue = event.target.closest("[data-queue]");
    if (queue) onChoose(queue.dataset.queue);
  });

  return { showCounts, chosen, renderTeamState };
}
