"""Subscription keys: create, list, revoke, verify. Only SHA-256 hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lexicraft.domain.keys import ApiKey
from lexicraft.domain.users import CONFIGURED_KEY, Actor, Scope
from lexicraft.storage.sql import keys as key_store
from lexicraft.storage.sql.engine import Database


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str, str]:
    """A fresh key, its hash and the prefix that is shown to recognise it."""
    key = secrets.token_hex(16)
    return key, _hash(key), key[:6]


def create_key(database: Database, name: str, scope: Scope = Scope.FULL) -> tuple[ApiKey, str]:
    """A new machine key (one that belongs to no user) of ``scope``; the plain key is
    returned once and never stored. Users' keys are made by :mod:`lexicraft.services.users`."""
    key, key_hash, prefix = new_key()
    with database.session() as session:
        stored = key_store.add_key(session, name, key_hash, prefix, scope=scope)
    return stored, key


def list_keys(database: Database) -> list[ApiKey]:
    """Every key, newest last."""
    with database.session() as session:
        return key_store.list_keys(session)


def revoke_key(database: Database, key_id: int) -> ApiKey:
    """Revoke key ``key_id``; servers refuse it within their key cache's lifetime."""
    with database.session() as session:
        return key_store.revoke_key(session, key_id)


def has_active_key(database: Database) -> bool:
    """Whether at least one key is not revoked."""
    with database.session() as session:
        return key_store.has_active_key(session)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """The answer for one key: whether it is accepted, and who sent it (its user, scope and
    stored key: jobs record the key so that workers share their time fairly between keys)."""

    accepted: bool
    actor: Actor | None = None

    @property
    def key_id(self) -> int | None:
        """The stored key's id; None for the configured extra key (and for a refused one)."""
        return self.actor.key_id if self.actor is not None else None


_REFUSED = KeyCheck(accepted=False)


def check_key(database: Database, key: str | None, extra_key: str | None) -> KeyCheck:
    """Whether ``key`` is the configured extra key or an active stored key (whose user, if
    any, is not disabled), and who it speaks for.

    Comparisons use ``hmac.compare_digest`` so timing does not reveal how much of a key matched.
    """
    if not key:
        return _REFUSED
    if extra_key and hmac.compare_digest(key.encode("utf-8"), extra_key.encode("utf-8")):
        return KeyCheck(accepted=True, actor=CONFIGURED_KEY)
    digest = _hash(key)
    with database.session() as session:
        stored = key_store.find_active(session, digest)
    if stored is None or not hmac.compare_digest(stored.key_hash, digest):
        return _REFUSED
    actor = Actor(
        key_name=stored.name,
        scope=stored.scope,
        key_id=stored.id,
        user_id=stored.user_id,
        user_name=stored.user_name,
        role=stored.role,
    )
    return KeyCheck(accepted=True, actor=actor)


def verify_key(database: Database, key: str | None, extra_key: str | None) -> bool:
    """Whether ``key`` is the configured extra key or an active stored key."""
    return check_key(database, key, extra_key).accepted


class KeyVerifier:
    """:func:`check_key` with answers remembered for ``ttl_s`` seconds.

    A request then costs no database query; a revoked key keeps working for at most
    ``ttl_s`` seconds on a server that had just seen it. Only hashes are remembered, and
    the memory is bounded: when full, it is cleared.
    """

    def __init__(
        self,
        database: Database,
        extra_key: str | None,
        ttl_s: float,
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database = database
        self.extra_key = extra_key
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self._answers: dict[str, tuple[KeyCheck, float]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop every remembered check: a key or user changed on this server takes effect on
        its next request (other servers see it within ``ttl_s``)."""
        with self._lock:
            self._answers.clear()

    def __len__(self) -> int:
        """How many checks are remembered."""
        return len(self._answers)

    def cached_check(self, key: str | None) -> KeyCheck | None:
        """The remembered check of ``key``, or None when it must be checked."""
        if not key:
            return _REFUSED
        with self._lock:
            found = self._answers.get(_hash(key))
        if found is None or found[1] <= self.clock():
            return None
        return found[0]

    def check(self, key: str | None) -> KeyCheck:
        """The check of ``key`` (from memory when fresh, else from the database)."""
        answer = self.cached_check(key)
        if answer is not None or not key:
            return answer or _REFUSED
        answer = check_key(self.database, key, self.extra_key)
        with self._lock:
            if len(self._answers) >= self.max_entries:
                self._answers.clear()
            self._answers[_hash(key)] = (answer, self.clock() + self.ttl_s)
        return answer

    def cached(self, key: str | None) -> bool | None:
        """The remembered answer for ``key``, or None when it must be checked."""
        answer = self.cached_check(key)
        return None if answer is None else answer.accepted

    def verify(self, key: str | None) -> bool:
        """Whether ``key`` is accepted (from memory when fresh, else from the database)."""
        return self.check(key).accepted
