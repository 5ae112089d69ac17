"""Subscription keys in SQL: only SHA-256 hashes are stored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from lexicraft.domain.keys import ApiKey
from lexicraft.domain.users import Role, Scope
from lexicraft.errors import NotFound
from lexicraft.storage.sql.tables import ApiKeyRow, UserRow
from lexicraft.timeutil import as_utc, utcnow


def _to_key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        scope=Scope(row.scope),
        user_id=row.user_id,
        user_name=row.user.name if row.user is not None else None,
    )


def add_key(
    session: Session,
    name: str,
    key_hash: str,
    prefix: str,
    *,
    scope: Scope = Scope.FULL,
    user_id: int | None = None,
) -> ApiKey:
    """Store a new key by its hash (``user_id``: the user it belongs to; None: a machine key)."""
    row = ApiKeyRow(
        name=name,
        key_hash=key_hash,
        prefix=prefix,
        created_at=utcnow(),
        scope=scope.value,
        user_id=user_id,
    )
    session.add(row)
    session.flush()
    return _to_key(row)


def list_keys(session: Session, *, user_id: int | None = None) -> list[ApiKey]:
    """Every key (or only user ``user_id``'s), newest last."""
    query = select(ApiKeyRow).options(selectinload(ApiKeyRow.user)).order_by(ApiKeyRow.id)
    if user_id is not None:
        query = query.where(ApiKeyRow.user_id == user_id)
    return [_to_key(row) for row in session.scalars(query)]


def revoke_key(session: Session, key_id: int, *, user_id: int | None = None) -> ApiKey:
    """Mark key ``key_id`` revoked (idempotent), else NotFound (also when ``user_id`` is given
    and the key is not that user's)."""
    row = session.get(ApiKeyRow, key_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise NotFound(f"API key {key_id} was not found", target="keyId")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return _to_key(row)


def has_active_key(session: Session) -> bool:
    """Whether at least one key is not revoked."""
    return session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.revoked_at.is_(None))) is not None


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """What a request needs to know about the key it was sent with."""

    id: int
    key_hash: str
    name: str
    scope: Scope
    user_id: int | None
    user_name: str | None
    role: Role | None


def find_active(session: Session, key_hash: str) -> ActiveKey | None:
    """The active key whose hash is ``key_hash``, if there is one: not revoked, and its user
    (if any) not disabled."""
    found = session.execute(
        select(ApiKeyRow, UserRow)
        .outerjoin(UserRow, ApiKeyRow.user_id == UserRow.id)
        .where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    key, user = found
    if user is not None and user.disabled_at is not None:
        return None
    return ActiveKey(
        id=key.id,
        key_hash=key.key_hash,
        name=key.name,
        scope=Scope(key.scope),
        user_id=user.id if user is not None else None,
        user_name=user.name if user is not None else None,
        role=Role(user.role) if user is not None else None,
    )
