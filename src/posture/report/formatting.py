"""Dates and numbers as a reader of either language expects them."""

from __future__ import annotations

from datetime import datetime, timedelta

from posture.report.i18n import Messages


def long_date(value: datetime, messages: Messages) -> str:
    """ "June 1, 2025" / "2025年6月1日": for headers and the cover page."""
    return messages(
        "report.date",
        year=value.year,
        month=value.month,
        day=value.day,
        month_name=messages(f"months.{value.month}"),
    )


def short_date(value: datetime | None, messages: Messages) -> str:
    """ISO dates in tables: short, sortable and the same in both languages."""
    if value is None:
        return messages("report.not_available")
    return value.strftime("%Y-%m-%d")


def timestamp(value: datetime | None, messages: Messages) -> str:
    """Date and minute with the zone the value carries (the store keeps UTC)."""
    if value is None:
        return messages("report.not_available")
    zone = value.tzname()
    return value.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone else "")


def period_end_inclusive(start: datetime, end: datetime) -> datetime:
    """A period that ends at midnight is half-open: July 1 00:00 means "to June 30"."""
    midnight = (end.hour, end.minute, end.second, end.microsecond) == (0, 0, 0, 0)
    if midnight and end > start:
        return end - timedelta(days=1)
    return end


def period_text(start: datetime, end: datetime, messages: Messages) -> str:
    last = period_end_inclusive(start, end)
    return messages(
        "report.period_range",
        start=long_date(start, messages),
        end=long_date(last, messages),
    )


def percent(value: float, messages: Messages) -> str:
    return messages("report.percent", value=f"{value:.0f}")
