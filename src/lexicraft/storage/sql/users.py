"""Users in SQL: named people with a role; their keys live in :mod:`.keys`."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lexicraft.domain.users import Role, User
from lexicraft.errors import Conflict, NotFound
from lexicraft.storage.sql.tables import ApiKeyRow, UserRow
from lexicraft.timeutil import as_utc, utcnow


def to_user(row: UserRow) -> User:
    """The domain view of a user row."""
    return User(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        created_at=as_utc(row.created_at),
        disabled_at=as_utc(row.disabled_at) if row.disabled_at else None,
    )


def _find_row(session: Session, name: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.name == name))


def get_row(session: Session, name: str) -> UserRow:
    """The row of user ``name``, else NotFound."""
    row = _find_row(session, name)
    if row is None:
        raise NotFound(f"user {name!r} was not found", target="userName")
    return row


def add_user(session: Session, name: str, role: Role) -> User:
    """Store a new user, else Conflict when the name is taken."""
    if _find_row(session, name) is not None:
        raise Conflict(f"a user named {name!r} already exists", target="name")
    row = UserRow(name=name, role=role.value, created_at=utcnow())
    session.add(row)
    session.flush()
    return to_user(row)


def list_users(session: Session) -> list[User]:
    """Every user, oldest first."""
    return [to_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.id))]


def get_user(session: Session, name: str) -> User:
    """User ``name``, else NotFound."""
    return to_user(get_row(session, name))


def update_user(
    session: Session, name: str, *, role: Role | None = None, disabled: bool | None = None
) -> User:
    """Change a user's role and/or whether they are disabled (None: unchanged)."""
    row = get_row(session, name)
    if role is not None:
        row.role = role.value
    if disabled is not None and disabled != (row.disabled_at is not None):
        row.disabled_at = utcnow() if disabled else None
    session.flush()
    return to_user(row)


def delete_user(session: Session, name: str) -> None:
    """Remove a user and their keys (their history keeps their name), else NotFound.

    The keys are deleted, not left without a user: a key without one is a machine key.
    """
    row = get_row(session, name)
    session.execute(delete(ApiKeyRow).where(ApiKeyRow.user_id == row.id))
    session.delete(row)
    session.flush()
