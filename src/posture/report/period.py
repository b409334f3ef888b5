"""Report periods in the tenant's time zone, and what the scans of a period cover.

A month for a tenant in Asia/Tokyo starts at 00:00 JST on the 1st, not at 00:00 UTC. A
report never claims more than its scans show: a period without a successful scan of a
connection says so, a period still in progress says up to when it covers, and a period
that has not started is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from posture.errors import ConfigurationError, UsageError


def zone(name: str) -> ZoneInfo:
    """The tenant's time zone; a clear error for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(
            f"unknown time zone '{name}'", hint="use an IANA name such as Asia/Tokyo or UTC"
        ) from exc


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) in a time zone; ``label`` such as ``2026-11``."""

    start: datetime
    end: datetime
    label: str

    @property
    def tz(self) -> tzinfo | None:
        return self.start.tzinfo

    def in_progress(self, now: datetime) -> bool:
        return self.start <= now < self.end


def month(text: str | None, tz_name: str, now: datetime) -> Period:
    """``YYYY-MM`` in the tenant's zone (default: the current month there).

    Refuses a month that has not started yet: a report about days that have not happened
    would be an empty all-clear.
    """
    tz = zone(tz_name)
    local_now = now.astimezone(tz)
    if text is None:
        year, mon = local_now.year, local_now.month
    else:
        try:
            year_text, month_text = text.split("-")
            year, mon = int(year_text), int(month_text)
            datetime(year, mon, 1)
        except ValueError as exc:
            raise UsageError(f"--period takes YYYY-MM, got '{text}'") from exc
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    label = f"{year:04d}-{mon:02d}"
    if start > local_now:
        raise UsageError(
            f"the period {label} has not started yet (it is {local_now:%Y-%m-%d %H:%M} "
            f"in {tz_name}); choose this month or an earlier one / "
            f"対象期間 {label} はまだ始まっていません ({tz_name} の現在時刻 "
            f"{local_now:%Y-%m-%d %H:%M})。今月以前の期間を指定してください。"
        )
    return Period(start, end, label)
