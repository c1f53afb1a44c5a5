// The inbox's store (static/js/inbox/store.js): state and reducers, no DOM. Run by
// `node --test tests/js/` (tests/inbox/test_inbox_script.py runs it in the suite).
import assert from "node:assert/strict";
import { test } from "node:test";

import * as store from "../../static/js/inbox/store.js";

// As apps/conversations/visibility.py script_table() renders it (the suite checks that the
// two agree on every case: tests/inbox/test_inbox_script.py).
const VISIBILITY = {
  waiting: ["assignee", "integration", "supervisor", "team", "waiting"],
  queued: ["assignee", "integration", "supervisor", "team"],
  reserved: ["assignee", "integration", "preferred", "supervisor", "team"],
  assigned: ["assignee", "integration", "supervisor", "team"],
  closed: ["assignee", "integration", "supervisor", "team"],
};
const ME = { id: 7, is_supervisor: false };

function conversation(id, fields = {}) {
  return {
    id, status: "queued", team: 1, assignee: null, preferred_agent: null, contact_name: `C${id}`,
    queued_at: `2026-12-07T10:00:${String(id).padStart(2, "0")}Z`, last_activity_at: "2026-12-07T10:00:00Z",
    last_message: null, ...fields,
  };
}

function fresh(extra = {}) {
  return store.createState({
    me: ME, visibility: VISIBILITY,
    counts: { waiting: 0, mine: 0, reserved_for_me: 0, teams: [{ id: 1, name: "Vendas", queued: 0 }] },
    ...extra,
  });
}

test("a queue lists its own conversations in queue order, starred for me first", () => {
  const state = fresh();
  const generation = store.chooseQueue(state, "team:1");
  assert.ok(store.pageArrived(state, generation, [conversation(3), conversation(1), conversation(2, { preferred_agent: 7 })], false));
  assert.deepEqual(store.sorted(state).map((c) => c.id), [2, 1, 3]);
});

test("a page for a list the agent left meanwhile is dropped", () => {
  const state = fresh();
  const first = store.chooseQueue(state, "team:1");
  const page = store.nextPage(state);
  assert.equal(page.generation, first);
  store.chooseQueue(state, "waiting");
  assert.equal(store.pageArrived(state, first, [conversation(1)], false), false);
  assert.equal(state.rows.size, 0);
});

test("the next page continues after the last row listed", () => {
  const state = fresh();
  const generation = store.chooseQueue(state, "team:1");
  store.nextPage(state);
  store.pageArrived(state, generation, [conversation(1), conversation(2)], true);
  const next = store.nextPage(state);
  assert.deepEqual(next.params, { page_size: store.PAGE_SIZE, ordering: "queue", status: "queued", team: 1, after: 2 });
  assert.equal(store.nextPage(state), null, "one page at a time");
});

test("a live change updates one row, adds one within range, and removes one that left", () => {
  const state = fresh();
  const generation = store.chooseQueue(state, "team:1");
  store.pageArrived(state, generation, [conversation(1), conversation(2)], true);
  assert.deepEqual(store.upsert(state, conversation(1, { contact_name: "Renamed" })), { row: "updated", told: null });
  // Beyond the last row loaded: it comes with a later page.
  assert.deepEqual(store.upsert(state, conversation(9)), { row: null, told: null });
  // Before it: in the list now.
  assert.equal(store.upsert(state, conversation(0, { queued_at: "2026-12-07T09:00:00Z" })).row, "added");
  const taken = store.upsert(state, conversation(2, { status: "assigned", assignee: 8, assignee_name: "Beto" }));
  assert.equal(taken.row, "removed");
  assert.equal(taken.told.key, "left_queue");
  assert.deepEqual([...state.rows.keys()].sort(), [0, 1]);
});

test("search results are what the server found: a change updates them, never adds", () => {
  const state = fresh();
  const generation = store.chooseQueue(state, "search", "ana");
  store.pageArrived(state, generation, [conversation(1)], false);
  assert.equal(store.upsert(state, conversation(2)).row, null);
  assert.equal(store.upsert(state, conversation(1, { status: "closed" })).row, "updated");
});

test("work that becomes mine by someone else's doing is announced once; my own claim is not", () => {
  const state = fresh();
  const assigned = conversation(4, { status: "assigned", assignee: 7 });
  assert.deepEqual(store.track(state, assigned), { kind: "assigned", conversation: assigned });
  assert.equal(store.track(state, assigned), null, "no news the second time");
  assert.equal(store.titleNumber(state), 1, "announced and not opened: unread");
  store.markSeen(state, assigned);
  assert.equal(store.titleNumber(state), 0);
  state.claiming.add(5);
  assert.equal(store.track(state, conversation(5, { status: "assigned", assignee: 7 })), null);
  const reserved = conversation(6, { status: "reserved", preferred_agent: 7 });
  assert.equal(store.track(state, reserved).kind, "reserved");
  // Taken away: no longer mine.
  store.track(state, conversation(6, { status: "queued" }));
  assert.equal(state.mine.has(6), false);
});

test("a team queue with its alert on announces what enters it, once", () => {
  const state = fresh({ alerts: [1] });
  const arrived = conversation(10);
  assert.deepEqual(store.track(state, arrived), { kind: "queued", conversation: arrived });
  assert.equal(store.track(state, arrived), null, "still there: not news");
  assert.equal(store.track(state, conversation(11, { team: 2 })), null, "another team's queue: silent");
  assert.equal(store.toggleAlert(state, 1), false);
  assert.equal(store.track(state, conversation(12)), null, "alert off: silent");
  // Its queue counts in the title while the alert is on.
  store.toggleAlert(state, 1);
  store.countsArrived(state, { waiting: 0, mine: 0, reserved_for_me: 0, teams: [{ id: 1, name: "Vendas", queued: 3 }] });
  assert.equal(store.titleNumber(state), 3);
});

test("a conversation that comes back to the queue is news again", () => {
  const state = fresh({ alerts: [1] });
  store.track(state, conversation(10));
  store.track(state, conversation(10, { status: "assigned", assignee: 8 }));
  assert.equal(store.track(state, conversation(10)).kind, "queued");
});

test("visibility follows the table the page was given", () => {
  const state = fresh();
  assert.ok(store.maySee(state, conversation(1, { status: "waiting", team: null })));
  assert.ok(store.maySee(state, conversation(2)), "a queue of my team");
  assert.equal(store.maySee(state, conversation(3, { team: 9 })), false, "another team's queue");
  assert.ok(store.maySee(state, conversation(4, { team: 9, status: "reserved", preferred_agent: 7 })));
  assert.equal(store.maySee(state, conversation(5, { team: 9, status: "assigned", preferred_agent: 7, assignee: 8 })), false);
  assert.ok(store.maySee(state, conversation(6, { team: 9, status: "closed", assignee: 7 })));
  const boss = store.createState({ me: { id: 1, is_supervisor: true }, visibility: VISIBILITY });
  assert.ok(store.maySee(boss, conversation(7, { team: 9 })));
  const blind = store.createState({ me: ME, visibility: {} });
  assert.equal(store.maySee(blind, conversation(8, { status: "waiting" })), false, "no table: nothing");
});

test("ATENDER only where a claim can succeed; acting only on what I hold", () => {
  const state = fresh();
  assert.ok(store.mayClaim(state, conversation(1)));
  assert.equal(store.mayClaim(state, conversation(2, { team: 9 })), false);
  assert.equal(store.mayClaim(state, conversation(3, { status: "reserved", preferred_agent: 8 })), false);
  assert.ok(store.mayClaim(state, conversation(4, { status: "waiting", team: null })));
  assert.ok(store.mayAct(state, conversation(5, { status: "assigned", assignee: 7 })));
  assert.equal(store.mayAct(state, conversation(6, { status: "assigned", assignee: 8 })), false);
});

test("counts say which team queues are mine now, and whether the list's queue went", () => {
  const state = fresh();
  store.chooseQueue(state, "team:1");
  const answer = store.countsArrived(state, { waiting: 1, mine: 0, reserved_for_me: 0, teams: [{ id: 2, name: "Suporte", queued: 4 }] });
  assert.deepEqual(answer, { added: [2], removed: [1], lostQueue: true });
  assert.equal(state.myTeams.has(1), false);
  assert.equal(state.teams.get(2).name, "Suporte");
});

test("a new message becomes the row's last one and unread in Mine", () => {
  const state = fresh();
  const generation = store.chooseQueue(state, "mine");
  const mine = conversation(3, { status: "assigned", assignee: 7 });
  store.pageArrived(state, generation, [mine], false);
  store.mineLoaded(state, [mine]);
  const message = { id: 50, sender: "contact", body: "Oi", created_at: "2026-12-07T11:00:00Z" };
  const known = store.messageAdded(state, 3, message);
  assert.equal(known.last_message.id, 50);
  assert.equal(state.rows.get(3).last_activity_at, message.created_at);
  assert.ok(store.isUnread(state, state.mine.get(3)));
  store.markSeen(state, state.mine.get(3));
  assert.equal(store.isUnread(state, state.mine.get(3)), false);
  assert.equal(store.messageAdded(state, 99, message), null);
});

test("the teams' next opening or closing, within the hour", () => {
  const state = fresh({ teams: [{ id: 1, name: "Vendas", opens_at: "2026-12-07T12:00:00Z" }] });
  const now = Date.parse("2026-12-07T11:30:00Z");
  assert.equal(store.nextTeamChange(state, now), Date.parse("2026-12-07T12:00:01Z"));
  assert.equal(store.nextTeamChange(fresh(), now), now + 3600000);
});
