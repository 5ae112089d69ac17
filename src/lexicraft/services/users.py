"""Use cases for the people of a server: users with a role, and their keys.

A user's key is a subscription key that carries the user's name and role (see
:mod:`lexicraft.domain.users`); a disabled user's keys are refused, a deleted user's are gone.
Only SHA-256 hashes of keys are stored; a new key is shown once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from lexicraft.domain.keys import ApiKey
from lexicraft.domain.users import Actor, Role, Scope, User, check_user_name
from lexicraft.errors import Conflict, InvalidParameterValue
from lexicraft.services.keys import new_key
from lexicraft.storage.sql import keys as key_store
from lexicraft.storage.sql import users as user_store
from lexicraft.storage.sql.engine import Database

_MAX_KEY_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: its stored facts and the key itself (shown only this once)."""

    stored: ApiKey
    key: str


def create_user(
    database: Database, name: str, role: Role, *, key_name: str | None = None
) -> tuple[User, NewKey]:
    """A new user and their first key (full scope: whatever the role allows)."""
    check_user_name(name)
    with database.session() as session:
        user = user_store.add_user(session, name, role)
        return user, _add_key(session, user, key_name, Scope.FULL)


def list_users(database: Database) -> list[User]:
    """Every user, oldest first."""
    with database.session() as session:
        return user_store.list_users(session)


def get_user(database: Database, name: str) -> User:
    """User ``name``, else NotFound."""
    with database.session() as session:
        return user_store.get_user(session, name)


def update_user(
    database: Database,
    name: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    actor: Actor | None = None,
) -> User:
    """Change a user's role or disable (enable) them; ``actor`` (who asks) cannot lock
    themselves out: neither disable themselves nor give up their own admin role."""
    with database.session() as session:
        user = user_store.get_user(session, name)
        demoted = role is not None and role is not Role.ADMIN
        if actor is not None and actor.user_id == user.id and (disabled or demoted):
            raise Conflict(
                "you cannot disable yourself or give up your own admin role; ask another admin",
                target="userName",
            )
        return user_store.update_user(session, name, role=role, disabled=disabled)


def delete_user(database: Database, name: str, *, actor: Actor | None = None) -> None:
    """Delete a user and their keys (their history keeps their name); not oneself."""
    with database.session() as session:
        user = user_store.get_user(session, name)
        if actor is not None and actor.user_id == user.id:
            raise Conflict("you cannot delete yourself; ask another admin", target="userName")
        user_store.delete_user(session, name)


def create_user_key(
    database: Database, name: str, *, key_name: str | None = None, scope: Scope = Scope.FULL
) -> NewKey:
    """Another key for user ``name`` (``scope`` bounds it within the user's role)."""
    with database.session() as session:
        user = user_store.get_user(session, name)
        return _add_key(session, user, key_name, scope)


def list_user_keys(database: Database, name: str) -> list[ApiKey]:
    """User ``name``'s keys, revoked ones included, newest last."""
    with database.session() as session:
        user = user_store.get_user(session, name)
        return key_store.list_keys(session, user_id=user.id)


def revoke_user_key(database: Database, name: str, key_id: int) -> ApiKey:
    """Revoke key ``key_id`` of user ``name`` (NotFound when it is not theirs)."""
    with database.session() as session:
        user = user_store.get_user(session, name)
        return key_store.revoke_key(session, key_id, user_id=user.id)


def check_key_name(value: str) -> str:
    """``value`` if it can name a key, else the error."""
    if not value.strip() or len(value) > _MAX_KEY_NAME_LENGTH or not value.isprintable():
        raise InvalidParameterValue(
            f"key name {value!r} is not valid: use 1-{_MAX_KEY_NAME_LENGTH} printable characters",
            target="name",
        )
    return value


def _add_key(session: Session, user: User, key_name: str | None, scope: Scope) -> NewKey:
    key, key_hash, prefix = new_key()
    name = check_key_name(key_name) if key_name is not None else user.name
    stored = key_store.add_key(session, name, key_hash, prefix, scope=scope, user_id=user.id)
    return NewKey(stored=stored, key=key)
