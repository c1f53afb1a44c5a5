"""What team changes announce after commit (see apps.core.announce)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class MembershipsChanged:
    """These agents joined or left a team: what they may see changed."""

    agent_ids: tuple[int, ...]
