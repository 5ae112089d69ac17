"""Subscription keys: create, list, revoke, verify. Only SHA-256 hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from lexicraft.errors import NotFound
from lexicraft.storage.sql.engine import Database
from lexicraft.storage.sql.tables import ApiKeyRow
from lexicraft.timeutil import utcnow


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(database: Database, name: str) -> tuple[ApiKeyRow, str]:
    """A new key; the plain key is returned once and never stored."""
    key = secrets.token_hex(16)
    with database.session() as session:
        row = ApiKeyRow(name=name, key_hash=_hash(key), prefix=key[:6], created_at=utcnow())
        session.add(row)
        session.flush()
    return row, key


def list_keys(database: Database) -> list[ApiKeyRow]:
    """Every key, newest last."""
    with database.session() as session:
        return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))


def revoke_key(database: Database, key_id: int) -> ApiKeyRow:
    """Revoke key ``key_id``; it stops working at once."""
    with database.session() as session:
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            raise NotFound(f"API key {key_id} was not found")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        return row


def has_active_key(database: Database) -> bool:
    """Whether at least one key is not revoked."""
    with database.session() as session:
        return (
            session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None))) is not None
        )


def verify_key(database: Database, key: str | None, extra_key: str | None) -> bool:
    """Whether ``key`` is the configured extra key or an active stored key.

    Comparisons use ``hmac.compare_digest`` so timing does not reveal how much of a key matched.
    """
    if not key:
        return False
    if extra_key and hmac.compare_digest(key.encode("utf-8"), extra_key.encode("utf-8")):
        return True
    digest = _hash(key)
    with database.session() as session:
        stored = session.scalar(
            select(ApiKeyRow.key_hash).where(
                ApiKeyRow.key_hash == digest, ApiKeyRow.revoked_at.is_(None)
            )
        )
    return stored is not None and hmac.compare_digest(stored, digest)
