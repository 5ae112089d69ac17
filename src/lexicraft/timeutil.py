"""UTC clock and the date-time spellings of the Azure wire."""

from __future__ import annotations

from datetime import UTC, date, datetime

_DOTNET_EPOCH_OFFSET_TICKS = 621_355_968_000_000_000  # .NET ticks at 1970-01-01


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as aware UTC (SQLite hands back naive datetimes that were stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """RFC 3339 UTC with a ``Z``, as the SDKs parse strictly."""
    return as_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_date(value: date) -> str:
    """``YYYY-MM-DD``."""
    return value.isoformat()


def dotnet_ticks(value: datetime) -> int:
    """.NET ticks (100 ns since 0001-01-01), the suffix of Azure authoring job ids."""
    return _DOTNET_EPOCH_OFFSET_TICKS + int(as_utc(value).timestamp() * 10_000_000)
