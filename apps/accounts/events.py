"""What account changes announce after commit (see apps.core.announce)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class AccessChanged:
    """What these people may do or see changed (deactivated, role changed, signed out, a
    token revoked, the password changed): their open websockets check again who they are at
    once. ``session_hash`` (a signed-out session) and ``token_ids`` (revoked tokens) name
    the credentials whose sockets close without asking."""

    agent_ids: tuple[int, ...]
    session_hash: str | None = None
    token_ids: tuple[int, ...] = ()
