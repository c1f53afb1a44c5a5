"""SQLite (embedded mode) has no percentile and no time zones: the same functions,
registered on each new connection, so that the figures' queries (apps.reports.figures) read
the same on both databases. PostgreSQL has them built in."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apps.reports.percentiles import percentile


class Percentile:
    """``atende_percentile(value, fraction)``: PostgreSQL's ``percentile_cont``."""

    def __init__(self):
        self.values, self.fraction = [], 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(float(value))
            self.fraction = float(fraction)

    def finalize(self):
        return percentile(self.values, self.fraction)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def local_day(value, zone):
    if value is None:
        return None
    return _moment(value).astimezone(ZoneInfo(zone)).date().isoformat()


def local_hour(value, zone):
    """The instant (UTC) at which the local hour of ``value`` began."""
    if value is None:
        return None
    moment = _moment(value)
    local = moment.astimezone(ZoneInfo(zone))
    start = moment.timestamp() - local.minute * 60 - local.second - local.microsecond / 1e6
    return datetime.fromtimestamp(round(start), UTC).strftime("%Y-%m-%d %H:%M:%S")


def seconds_between(end, start):
    if end is None or start is None:
        return None
    return (_moment(end) - _moment(start)).total_seconds()


def register_functions(sender, connection, **kwargs):
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_aggregate("atende_percentile", 2, Percentile)
    raw.create_function("atende_local_day", 2, local_day, deterministic=True)
    raw.create_function("atende_local_hour", 2, local_hour, deterministic=True)
    raw.create_function("atende_seconds", 2, seconds_between, deterministic=True)
