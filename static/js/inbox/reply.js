// The reply box: Enter sends, Shift+Enter is a new line; a draft stays with its conversation
// while the agent looks elsewhere, and stays in the box when sending fails.
import { $, api, t } from "../common.js";

// onSent(conversationId, message): the message the server made of it.
export function createReplyBox({ state, notice, onSent }) {
  const form = $('[data-part="reply-form"]');
  const input = $('[data-part="reply-input"]');
  const send = $('[data-part="reply-send"]');

  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = state.openId;
    const body = input.value;
    if (!body.trim()) return;
    send.disabled = true;
    const { ok, data: payload } = await api(`conversations/${id}/messages`, { method: "POST", body: { body } });
    send.disabled = false;
    if (ok) {
      if (state.openId === id) input.value = "";
      state.drafts.delete(id);
      notice("");
      onSent(id, payload);
    } else notice(payload?.detail || t("error")); // the draft stays
  });

  return {
    // Keep what the agent was writing for the conversation that was open.
    save() {
      if (state.openId !== null) state.drafts.set(state.openId, input.value);
    },
    restore(id) {
      input.value = state.drafts.get(id) || "";
    },
    focus() {
      input.focus();
    },
  };
}
