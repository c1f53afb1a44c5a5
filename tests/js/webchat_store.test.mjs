// The web chat window's store (static/js/webchat/store.js): node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { initialState, opened, reduce, startsConversation, statusLines } from "../../static/js/webchat/store.js";

const queued = {
  type: "state", conversation: 7, status: "queued", team: 2, position: 3, estimated_wait_seconds: 150,
  team_open: true, team_opens_at: null, agent: null, can_rate: false, rating: null,
  messages: [{ id: 1, from: "me", agent: null, body: "Oi", at: "t" }],
};

test("a queued conversation says its place and the wait in whole minutes", () => {
  const state = reduce(initialState(), queued);
  assert.deepEqual(statusLines(state), [["position", { position: 3 }], ["estimate", { minutes: 3 }]]);
  assert.equal(startsConversation(state), false);
});

test("a closed team says when it opens and gives no estimate", () => {
  const state = reduce(initialState(), { ...queued, team_open: false, team_opens_at: "2026-12-09T11:00:00Z" });
  assert.deepEqual(statusLines(state), [["closed_team_at", { when: "2026-12-09T11:00:00Z" }], ["position", { position: 3 }]]);
});

test("an agent's message while the window is closed counts as unread, once", () => {
  let state = reduce(initialState(), queued);
  const message = { type: "message", message: { id: 2, from: "agent", agent: "Ana", body: "Olá", at: "t" } };
  state = reduce(reduce(state, message), message);
  assert.equal(state.unread, 1);
  assert.deepEqual(state.messages.map((m) => m.id), [1, 2]);
  assert.equal(opened(state, true).unread, 0);
});

test("a bad hash leaves the session anonymous; a refused origin stops everything", () => {
  let state = reduce(initialState(), { type: "refused", code: "bad_hash", detail: "x" });
  assert.equal(state.identityRefused, true);
  assert.equal(state.refused, null);
  state = reduce(state, { type: "refused", code: "origin_not_allowed", detail: "no" });
  assert.deepEqual(state.refused, { code: "origin_not_allowed", detail: "no" });
});

test("a status of another conversation starts an empty thread; closed asks to rate", () => {
  let state = reduce(initialState(), queued);
  state = reduce(state, { ...queued, type: "status", conversation: 8, status: "closed", can_rate: true });
  assert.deepEqual(state.messages, []);
  assert.deepEqual(statusLines(state), [["conversation_closed", {}]]);
  assert.equal(startsConversation(state), true);
});
