"""What a simulation runs on: plain objects, no ORM (docs/simulation.md).

A ``Setup`` is one configuration (teams, agents with their online intervals) over a period
of ``seconds``; ``Arrival``s are the traffic. Both are built before the run (``config``,
``traffic``) and never touch the database during it.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from apps.teams.models import DistributionMode

EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday: synthetic periods start here
DEFAULT_PICK_UP_SECONDS = 30.0


@dataclass
class TeamSetup:
    id: int
    name: str
    mode: str = DistributionMode.CAPACITY
    answer_target_seconds: int = 60
    pick_up_seconds: float = DEFAULT_PICK_UP_SECONDS
    first_reply_seconds: int | None = None
    offline_requeue_seconds: int | None = None
    after_hours_team: int | None = None
    schedule: object | None = None  # apps.teams.hours.Schedule; None: always open
    ladder: list = field(default_factory=list)
    sticky_days: int | None = None


@dataclass
class AgentSetup:
    id: int
    name: str
    capacity: int
    teams: set[int]
    skills: dict[str, int] = field(default_factory=dict)
    online: list[tuple[float, float]] = field(default_factory=list)  # [from, to) seconds
    # capacity changes at a moment (a recorded period): [(seconds, capacity)]
    capacity_changes: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class Setup:
    teams: dict[int, TeamSetup]
    agents: list[AgentSetup]
    seconds: float
    start: datetime = EPOCH
    # Handle times drawn at each assignment from the serving agent's recorded ones in the
    # team ({(agent id, team id): [seconds]}); None: each conversation's own handle time.
    handle_samples: dict | None = None
    seed: int = 0


@dataclass(slots=True)
class Arrival:
    at: float  # seconds from the start of the period
    team: int | None
    handle: float  # seconds an agent spends on it once assigned
    patience: float | None = None  # seconds before the customer gives up; None: never
    requirements: tuple = ()  # ((skill name, min level), ...)
    contact: int | None = None
    # the preferential rule that applies to the contact: (type, agent id, reservation limit
    # in seconds or None without limit); None: no rule
    rule: tuple | None = None
