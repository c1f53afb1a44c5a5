// The open conversation: its head (who, where it stands, its countdowns, ATENDER), the
// thread (thread.js), the contact panel (contact.js) and the actions (transfer, close).
import { $, agentName, agentWarning, api, confirmDialog, el, isPhone, presenceText, results, t, whenText } from "../common.js";
import { ContactPanel } from "../contact.js";
import { contactText, whereText } from "../labels.js";
import { Thread } from "../thread.js";
import { deadlineNodes } from "./list.js";
import { mayAct, mayClaim, maySee, teamsArrived } from "./store.js";

const part = (name, root = document) => $(`[data-part="${name}"]`, root);

// Whether a team is open, and when that changes: "Closed · opens Mon 08:00".
export function teamStateText(team) {
  if (!team || team.open_now !== false) return "";
  return team.opens_at ? t("team_closed_opens", { when: whenText(team.opens_at) }) : t("team_closed");
}

// onAct(path, body): the page's own act (POST, then the store and views follow);
// onOpen(id): open another conversation (from the contact's earlier ones).
export function createPane({ state, inbox, onAct, onOpen, onTeams }) {
  const thread = new Thread(part("messages"));
  const contactPanel = new ContactPanel(part("contact-body"), { onOpen: (c) => onOpen(c.id, { from: c }) });
  const form = part("reply-form");
  const actions = part("actions");
  const claim = part("claim");
  const transferSelect = part("transfer-target");
  const transferButton = part("transfer");

  function notice(text) {
    const box = part("notice");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function render() {
    const c = state.open;
    if (!c) return;
    part("pane-title").textContent = contactText(c);
    const deadlines = deadlineNodes(state, c);
    const closed = c.status === "queued" ? teamStateText(state.teams.get(c.team)) : "";
    if (closed) deadlines.push(el("span", { class: "team-closed", "data-testid": "conversation-team-state", text: closed }));
    part("conversation-status").replaceChildren(
      whereText(c, { me: state.me.id }), ...deadlines.map((node) => el("span", { class: "nowrap" }, " · ", node)),
    );
    claim.hidden = !mayClaim(state, c);
    part("contact-toggle").hidden = false;
    const acting = mayAct(state, c);
    const wasHidden = form.hidden;
    form.hidden = !acting;
    actions.hidden = !acting;
    if (acting && wasHidden) refreshTargets();
    if (!maySee(state, c)) notice(t("out_of_sight", { where: whereText(c, { me: state.me.id }) }));
  }

  function showContact(visible) {
    const panel = part("contact-panel");
    panel.hidden = !visible;
    part("contact-toggle").setAttribute("aria-expanded", String(visible));
    inbox.classList.toggle("with-contact", visible);
    if (isPhone()) inbox.dataset.view = visible ? "contact" : "pane";
  }

  // A conversation opens: what is known at once, then its detail, thread and contact.
  async function load(id) {
    notice("");
    if (state.open) render();
    else part("pane-title").textContent = t("loading");
    showContact(window.matchMedia("(min-width: 1200px)").matches);
    const [detail] = await Promise.all([
      api(`conversations/${id}/`),
      thread.load(state.open || { id }),
      contactPanel.load(id),
    ]);
    if (state.openId !== id) return null;
    if (!detail.ok) {
      notice(detail.data?.detail || t("error"));
      return null;
    }
    state.open = detail.data;
    thread.conversation = detail.data;
    render();
    return detail.data;
  }

  // ------------------------------------------------------------------ transfer

  function renderTargets() {
    const chosen = transferSelect.value;
    const teams = [...state.teams.values()].sort((a, b) => a.name.localeCompare(b.name));
    const agents = [...state.agents.values()]
      .filter((a) => a.id !== state.me.id && a.is_active !== false)
      .sort((a, b) => agentName(a).localeCompare(agentName(b)));
    transferSelect.replaceChildren(
      el("option", { value: "", text: t("choose_target") }),
      el("optgroup", { label: t("teams") }, ...teams.map((team) => el("option", { value: `team:${team.id}`, text: team.name }))),
      el("optgroup", { label: t("agents") }, ...agents.map((a) => el("option", {
        value: `agent:${a.id}`, "data-presence": a.presence, text: `${agentName(a)} — ${presenceText(a)}`,
      }))),
    );
    transferSelect.value = [...transferSelect.options].some((o) => o.value === chosen) ? chosen : "";
    transferButton.disabled = !transferSelect.value;
  }

  // Presence and load as they are now, when the agent is about to choose.
  async function refreshTargets() {
    const [agents, teams] = await Promise.all([api("agents/"), api("teams/")]);
    if (agents.ok) agents.data.forEach((a) => state.agents.set(a.id, a));
    if (teams.ok) {
      teamsArrived(state, results(teams.data));
      onTeams();
    }
    renderTargets();
  }

  transferSelect.addEventListener("focus", refreshTargets);
  transferSelect.addEventListener("change", () => {
    transferButton.disabled = !transferSelect.value;
  });
  transferButton.addEventListener("click", async () => {
    const [kind, target] = transferSelect.value.split(":");
    if (!target) return;
    if (kind === "agent") {
      await refreshTargets(); // warn on presence and load as they are now
      const agent = state.agents.get(Number(target));
      const warning = agent && agentWarning(agent);
      if (warning && !(await confirmDialog(warning, { ok: t("transfer_anyway") }))) return;
    }
    if (await onAct("transfer", { [kind]: Number(target) })) {
      transferSelect.value = "";
      transferButton.disabled = true;
    }
  });

  part("close").addEventListener("click", async () => {
    if (isPhone() && !(await confirmDialog(t("confirm_close", { contact: state.open?.contact_name || "" }), { ok: t("close_it") }))) {
      return;
    }
    onAct("close", {});
  });

  part("contact-toggle").addEventListener("click", () => showContact(part("contact-panel").hidden));

  return { thread, render, load, notice, showContact, claimButton: claim };
}
