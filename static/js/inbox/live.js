// The inbox's live connection: the socket (common.js connectLive, with its banner and
// back-off), the presence switch, and the server's events handed to the page by type.
import { connectLive, presenceSwitch, toast } from "../common.js";

// handlers: {"queue.counts": (event) => ..., ...}; onReconnected(): load again what may have
// been missed while the socket was down (not on the first opening).
export function connectInbox({ initialPresence, handlers, onReconnected }) {
  let firstOpen = true;
  let presence = null;
  const live = connectLive(
    (event) => {
      if (event.type === "presence.changed") presence?.show(event.status);
      else if (event.type === "error") toast(event.detail, { kind: "error" });
      else handlers[event.type]?.(event);
    },
    {
      onState: async (s) => {
        presence?.connected(s === "open");
        if (s !== "open") return;
        await presence?.refresh();
        if (!firstOpen) await onReconnected();
        firstOpen = false;
      },
    },
  );
  presence = presenceSwitch(live, initialPresence);
  return { live, presence };
}
