// The web chat window's state, changed only by the server's events and the customer's
// actions (pure: no DOM, no socket), so the window renders from one place.

export function initialState() {
  return {
    config: null, // the welcome: name, greeting, color, teams, strings
    language: "en",
    connected: false,
    refused: null, // {code, detail}: the chat refused this page (wrong origin, bad key)
    identityRefused: false, // a bad hash: the customer stays anonymous
    session: null, // {visitor, identified, name}
    view: null, // where the conversation stands (status, position, estimate, agent...)
    messages: [], // oldest first, each {id, from, agent, body, at}
    pending: [], // what the customer sent that the server has not confirmed yet
    open: false,
    unread: 0,
    error: null,
  };
}

const STATUS_FIELDS = [
  "conversation", "status", "position", "estimated_wait_seconds", "team_open",
  "team_opens_at", "agent", "can_rate", "rating",
];

function pick(event) {
  const view = {};
  for (const field of STATUS_FIELDS) view[field] = event[field] ?? null;
  return view;
}

function withMessage(messages, message) {
  if (messages.some((m) => m.id === message.id)) return messages;
  return [...messages, message].sort((a, b) => a.id - b.id);
}

// The next state after a server event.
export function reduce(state, event) {
  switch (event.type) {
    case "welcome":
      return { ...state, config: event, language: event.language || state.language, connected: true };
    case "refused":
      if (event.code === "bad_hash") return { ...state, identityRefused: true };
      return { ...state, refused: { code: event.code, detail: event.detail }, connected: false };
    case "session":
      return { ...state, session: event, identityRefused: event.identified ? false : state.identityRefused };
    case "state":
      return { ...state, view: pick(event), messages: event.messages, pending: [], error: null };
    case "status": {
      const sameConversation = state.view && state.view.conversation === event.conversation;
      return { ...state, view: pick(event), messages: sameConversation ? state.messages : [] };
    }
    case "sent":
      return {
        ...state,
        messages: withMessage(state.messages, event.message),
        pending: state.pending.filter((p) => p.request !== event.request),
        error: null,
      };
    case "message": {
      const known = state.messages.some((m) => m.id === event.message.id);
      const unread = !known && !state.open && event.message.from === "agent" ? state.unread + 1 : state.unread;
      return { ...state, messages: withMessage(state.messages, event.message), unread };
    }
    case "error":
      return {
        ...state,
        error: event.detail,
        pending: state.pending.filter((p) => p.request !== event.request),
      };
    case "disconnected":
      return { ...state, connected: false };
    default:
      return state;
  }
}

export function opened(state, open) {
  return { ...state, open, unread: open ? 0 : state.unread };
}

// Whether the next message opens a new conversation (so the choices and the name are asked).
export function startsConversation(state) {
  const status = state.view ? state.view.status : "none";
  return status === "none" || status === "closed";
}

// What the status line says, as [string key, values] pairs (the window translates them).
export function statusLines(state) {
  const view = state.view;
  if (!view || view.status === "none") return [];
  if (view.status === "closed") {
    return [["conversation_closed", {}], ...(view.can_rate ? [] : [["write_again", {}]])];
  }
  if (view.status === "assigned") return view.agent ? [["answering", { agent: view.agent }]] : [];
  const lines = [];
  if (view.team_open === false) {
    lines.push(view.team_opens_at ? ["closed_team_at", { when: view.team_opens_at }] : ["closed_team", {}]);
  }
  if (view.status === "reserved") {
    lines.push(["reserved", {}]);
  } else if (view.position) {
    lines.push(["position", { position: view.position }]);
    const seconds = view.estimated_wait_seconds;
    if (seconds !== null && seconds !== undefined && view.team_open !== false) {
      lines.push(seconds < 60 ? ["estimate_soon", {}] : ["estimate", { minutes: Math.ceil(seconds / 60) }]);
    }
  } else {
    lines.push(["waiting", {}]);
  }
  return lines;
}
