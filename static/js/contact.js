// The contact panel: who the customer is (organization path, email, phone, channel, the
// preferred agent) and their earlier conversations, each one click away.
import { api, channelLabel, el, shortDayOf, t } from "./common.js";

function field(label, value, testid) {
  if (value === null || value === undefined || value === "") return null;
  return [el("dt", { text: label }), el("dd", { "data-testid": testid }, value)];
}

function link(href, text) {
  return el("a", { href, text });
}

export class ContactPanel {
  constructor(box, { onOpen }) {
    this.box = box;
    this.onOpen = onOpen;
    this.conversationId = null;
  }

  clear() {
    this.conversationId = null;
    this.box.replaceChildren();
  }

  async load(conversationId) {
    this.conversationId = conversationId;
    this.box.replaceChildren(el("p", { class: "muted", text: t("loading") }));
    const { ok, data: card } = await api(`conversations/${conversationId}/contact`);
    if (this.conversationId !== conversationId) return;
    if (!ok) {
      this.box.replaceChildren(el("p", { class: "muted", text: card?.detail || t("error") }));
      return;
    }
    this.render(card);
  }

  render(card) {
    const path = card.organization_path.map((node) => node.name).join(" › ");
    const preferred = card.preferred_agent
      ? el("span", { class: "star-text" }, "★ ", card.preferred_agent.name, ` (${t(`rule_${card.preferred_agent.type}`)})`)
      : null;
    const facts = [
      field(t("name"), card.name || card.external_id, "contact-name"),
      field(t("organization"), path, "contact-organization"),
      field(t("email"), card.email ? link(`mailto:${card.email}`, card.email) : "", "contact-email"),
      field(t("phone"), card.phone ? link(`tel:${card.phone.replace(/[^\d+]/g, "")}`, card.phone) : "", "contact-phone"),
      field(t("channel"), channelLabel(card.channel), "contact-channel"),
      field(t("external_id"), card.external_id, "contact-external-id"),
      field(t("preferred_agent"), preferred, "contact-preferred"),
    ].filter(Boolean).flat();
    const earlier = card.conversations.length
      ? el("ul", { class: "earlier", "data-testid": "earlier-conversations" },
        ...card.conversations.map((c) => el("li", {},
          el("button", { type: "button", "data-testid": `earlier-${c.id}`, onclick: () => this.onOpen(c) },
            el("strong", { text: `${shortDayOf(c.created_at)} · ${t(`status_${c.status}`)}` }),
            el("span", { class: "muted", text: [c.team_name, c.assignee_name].filter(Boolean).join(" · ") }),
            el("span", { class: "preview muted", text: c.last_message?.body || "" })))))
      : el("p", { class: "muted", text: t("no_earlier") });
    this.box.replaceChildren(
      el("dl", { class: "facts" }, ...facts),
      el("h3", { text: t("earlier_conversations") }),
      earlier,
    );
  }
}
