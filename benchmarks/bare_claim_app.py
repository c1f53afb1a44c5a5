"""The claim storm's yardstick (issue 23 item 5): a bare ASGI endpoint, no Django, that does
the claim's conditional UPDATE and nothing else, served by uvicorn like Atende.

``POST /api/v1/conversations/{id}/claim`` with ``Authorization: Token <token>``: the token is
looked up in a dict (BARE_CLAIM_TOKENS, a JSON file of token -> agent id written by
benchmarks/claim_storm_http.py), then one statement on a pooled connection:

    UPDATE conversations_conversation SET status = 'assigned', assignee_id = %s, ...
    WHERE id = %s AND status = 'waiting' AND team_id IS NULL AND assignee_id IS NULL

200 when it changed a row, 409 otherwise. ``GET /api/v1/me/`` answers 200 (the clients warm
their connection with it). The pool is opened lazily in each worker's running loop.
"""

import json
import os

CLAIM = (
    "UPDATE conversations_conversation SET status = 'assigned', assignee_id = %s, "
    "auto_assigned = false, assigned_at = now(), updated_at = now(), reserved_until = NULL, "
    "reply_due_at = NULL, handed_over_from_id = NULL "
    "WHERE id = %s AND status = 'waiting' AND team_id IS NULL AND assignee_id IS NULL"
)

_pool = None
_tokens: dict[str, int] | None = None


async def _open_pool():
    global _pool
    if _pool is None:
        from psycopg_pool import AsyncConnectionPool

        url = os.environ["DATABASE_URL"]
        _pool = AsyncConnectionPool(url, min_size=2, max_size=16, open=False)
        await _pool.open()
    return _pool


def _agent_for(headers) -> int | None:
    global _tokens
    if _tokens is None:
        with open(os.environ["BARE_CLAIM_TOKENS"]) as handle:
            _tokens = json.load(handle)
    for key, value in headers:
        if key == b"authorization":
            return _tokens.get(value.decode().removeprefix("Token "))
    return None


async def _answer(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    agent = _agent_for(scope["headers"])
    if agent is None:
        return await _answer(send, 401, {"detail": "no such token"})
    parts = scope["path"].strip("/").split("/")
    if scope["method"] == "GET":
        await _open_pool()  # warmed with the clients' connections, outside the storm
        return await _answer(send, 200, {"id": agent})
    if len(parts) != 5 or parts[4] != "claim" or not parts[3].isdigit():
        return await _answer(send, 404, {"detail": "not found"})
    pool = await _open_pool()
    async with pool.connection() as connection:
        cursor = await connection.execute(CLAIM, (agent, int(parts[3])))
        won = cursor.rowcount == 1
    if won:
        return await _answer(send, 200, {"id": int(parts[3]), "status": "assigned"})
    return await _answer(send, 409, {"detail": "taken"})
