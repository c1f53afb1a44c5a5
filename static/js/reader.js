// One conversation read in a dialog on the supervisor page (its messages and history, live,
// through thread.js), with the assign choice at hand: read first, then reassign.
import { $, api, el, t, toast } from "./common.js";
import { Thread } from "./thread.js";

// where(c): the status line; options(select, c): fills c's agent list; assign(id, select,
// button): the page's own assign (asks first when the agent is away, offline or full).
export function createReader({ where, options, assign }) {
  const dialog = $('[data-testid="reader"]');
  const actions = $('[data-testid="reader-actions"]', dialog);
  const thread = new Thread($('[data-testid="reader-messages"]', dialog));
  let id = null;
  let shown = null; // the conversation as last shown (its team orders the agent list)

  function show(c) {
    shown = c;
    $('[data-testid="reader-title"]', dialog).textContent = t("reader_title", { contact: c.contact_name || `#${c.id}` });
    $('[data-testid="reader-status"]', dialog).textContent = c.status ? where(c) : "";
    if (c.status === "closed") return actions.replaceChildren();
    let select = actions.querySelector("select");
    if (!select) {
      select = el("select", { "data-testid": "reader-assign-agent", "aria-label": t("assign_to") });
      const button = el("button", { type: "button", class: "primary", "data-testid": "reader-assign", disabled: true, text: t("assign") });
      select.addEventListener("change", () => (button.disabled = !select.value));
      button.addEventListener("click", () => assign(id, select, button));
      actions.replaceChildren(select, button);
    }
    options(select, c);
  }

  dialog.addEventListener("close", () => {
    id = null;
    thread.reset(null);
    actions.replaceChildren();
  });

  return {
    async open(conversation) {
      id = conversation.id;
      show(conversation);
      dialog.showModal();
      $('[data-testid="reader-close"]', dialog).focus();
      const detail = await api(`conversations/${conversation.id}/`);
      if (id !== conversation.id) return;
      if (!detail.ok) return toast(detail.data?.detail || t("error"), { kind: "error" });
      show(detail.data);
      await thread.load(detail.data);
    },
    // A newer state of a conversation (an event, an assignment made here).
    update(c) {
      if (!dialog.open || c.id !== id) return;
      show(c);
      thread.reloadEvents();
    },
    agentsChanged() {
      const select = actions.querySelector("select");
      if (dialog.open && select) options(select, shown);
    },
    message(conversationId, message) {
      if (dialog.open && conversationId === id) thread.add(message);
    },
  };
}
