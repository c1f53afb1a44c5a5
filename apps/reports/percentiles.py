"""How a percentile and a whole number of seconds are taken (docs/reports.md)."""

import math


def percentile(values, fraction: float) -> float | None:
    """The continuous percentile (PostgreSQL's ``percentile_cont``): the value at position
    ``fraction * (n - 1)`` of the sorted values, interpolated between its neighbours."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def whole_seconds(value: float | None) -> int | None:
    """Seconds are integers: halves round up."""
    return None if value is None else int(math.floor(value + 0.5))


def share_pct(part: int, whole: int) -> float | None:
    """A share from 0 to 100 with one decimal; null when there is nothing to share."""
    return None if not whole else round(100 * part / whole, 1)
