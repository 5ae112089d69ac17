"""Subscription keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A subscription key's public facts; the key itself is never stored."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
