"""Subscription keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lexicraft.domain.users import Scope


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A subscription key's public facts; the key itself is never stored.

    ``user_id`` and ``user_name`` name the user the key belongs to (None: a machine key).
    """

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    scope: Scope = Scope.FULL
    user_id: int | None = None
    user_name: str | None = None
