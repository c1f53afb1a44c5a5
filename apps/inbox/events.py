"""The live inbox's event payloads: every message a socket sends its client is built here
(and documented in docs/api.md, "Websocket")."""

ACCESS_TYPE = "inbox.access"  # handled by InboxConsumer.inbox_access (apps.inbox.access)


def agent_row_payload(row: dict) -> dict:
    """One agent of the supervisor view: presence and load."""
    return {
        "id": row["id"],
        "username": row["username"],
        "name": row["name"] or row["username"],
        "presence": row["presence"],
        "open_count": row["open_count"],
        "capacity": row["capacity"],
    }


def queue_counts_event(counts: dict) -> dict:
    return {"type": "queue.counts", "counts": counts}


def conversation_updated_event(conversation: dict) -> dict:
    return {"type": "conversation.updated", "conversation": conversation}


def message_created_event(conversation_id: int, message: dict) -> dict:
    return {"type": "message.created", "conversation": conversation_id, "message": message}


def presence_changed_event(status: str) -> dict:
    """The person's own presence changed (another tab, the API, the sweep)."""
    return {"type": "presence.changed", "status": status}


def agents_updated_event(agents: list[dict]) -> dict:
    """Supervisors only: agents whose presence or load changed."""
    return {"type": "agents.updated", "agents": agents}


def handed_over_event(handover: dict) -> dict:
    """To the agent a conversation was taken from because they did not reply in time
    (routing.md 8.2): which one, with whom, where it went and after how long."""
    return {"type": "conversation.handed_over", **handover}


def live_paused_event() -> dict:
    """Redis is away: this socket stays open but hears no changes until ``live.resumed``."""
    return {"type": "live.paused"}


def live_resumed_event() -> dict:
    """Redis is back: what changed meanwhile was not pushed (fresh counts follow)."""
    return {"type": "live.resumed"}


def pong_event() -> dict:
    return {"type": "pong"}


def error_event(detail: str, **extra) -> dict:
    return {"type": "error", "detail": detail, **extra}


def access_notice(*, session_hash: str | None, token_ids) -> dict:
    """To a person's own group: check again who you are (close if your session or token is
    named here)."""
    return {"type": ACCESS_TYPE, "session": session_hash, "tokens": list(token_ids)}
