"""Subscription keys in SQL: only SHA-256 hashes are stored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lexicraft.domain.keys import ApiKey
from lexicraft.errors import NotFound
from lexicraft.storage.sql.tables import ApiKeyRow
from lexicraft.timeutil import as_utc, utcnow


def _to_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
    )


def add_key(session: Session, name: str, key_hash: str, prefix: str) -> ApiKey:
    """Store a new key by its hash."""
    row = ApiKeyRow(name=name, key_hash=key_hash, prefix=prefix, created_at=utcnow())
    session.add(row)
    session.flush()
    return _to_key(row)


def list_keys(session: Session) -> list[ApiKey]:
    """Every key, newest last."""
    return [_to_key(row) for row in session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id))]


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Mark key ``key_id`` revoked (idempotent), else NotFound."""
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} was not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return _to_key(row)


def has_active_key(session: Session) -> bool:
    """Whether at least one key is not revoked."""
    return session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None))) is not None


def find_active(session: Session, key_hash: str) -> tuple[int, str] | None:
    """The id and hash of the active key whose hash is ``key_hash``, if there is one."""
    found = session.execute(
        select(ApiKeyRow.id, ApiKeyRow.key_hash).where(
            ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None)
        )
    ).first()
    return None if found is None else (found[0], found[1])
