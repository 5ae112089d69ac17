"""People, roles, key scopes and permissions: who may do what.

A request is sent with a subscription key. A key belongs either to a named user (whose
``Role`` says what the person may do) or to no one (a machine key, for scripts and services).
Every key also has a ``Scope`` that bounds it further: a ``runtime`` key only analyzes, an
``authoring`` key does everything but manage users. What a key may do is the intersection of
its user's role and its own scope, decided by :func:`permissions_of` alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from lexicraft.errors import InvalidParameterValue


class Permission(StrEnum):
    """One kind of action; each protected route needs exactly one (or only a valid key)."""

    #: Call the runtime: analyze-text jobs, ``:analyze-conversations``, the legacy ``/text/…``
    #: routes (and poll or cancel those jobs). The Studio's suggestions and Test page use it.
    ANALYZE = "analyze"
    #: Read projects, documents, labels, models, evaluations, deployments and their jobs.
    VIEW = "view"
    #: Add documents or utterances and change their labels, dataset and language.
    LABEL = "label"
    #: Accept or send back a document's labels and resolve annotators' versions (review).
    REVIEW = "review"
    #: Create, import, export and delete projects and documents; change label lists; train,
    #: delete models, deploy, swap; write to storage containers.
    AUTHOR = "author"
    #: Create, change and delete users and their keys.
    MANAGE_USERS = "manageUsers"


class Role(StrEnum):
    """What a person does on the team."""

    ADMIN = "admin"
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"

    @classmethod
    def parse(cls, value: str, target: str = "role") -> Role:
        """The role named ``value`` (case-insensitive), else the error naming the choices."""
        return _parse_choice(cls, value, "role", target)


class Scope(StrEnum):
    """What a key may be used for, whoever owns it."""

    #: Whatever the key's owner may do (a machine key: everything).
    FULL = "full"
    #: Everything but managing users (a CI pipeline that imports, trains and deploys).
    AUTHORING = "authoring"
    #: Only the runtime: analyze, and poll or cancel its jobs (a production service).
    RUNTIME = "runtime"

    @classmethod
    def parse(cls, value: str, target: str = "scope") -> Scope:
        """The scope named ``value`` (case-insensitive), else the error naming the choices."""
        return _parse_choice(cls, value, "scope", target)


Choice = TypeVar("Choice", Role, Scope)


def _parse_choice(choices: type[Choice], value: str, what: str, target: str) -> Choice:
    for member in choices:
        if member.value == value.lower():
            return member
    raise InvalidParameterValue(
        f"{what} {value!r} is not valid; use one of {[member.value for member in choices]}",
        target=target,
    )


_EVERYTHING = frozenset(Permission)
_ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _EVERYTHING,
    # Annotators read and label; analyze lets them see a deployment's suggestions.
    Role.ANNOTATOR: frozenset({Permission.VIEW, Permission.LABEL, Permission.ANALYZE}),
    Role.REVIEWER: frozenset(
        {Permission.VIEW, Permission.LABEL, Permission.ANALYZE, Permission.REVIEW}
    ),
}
_SCOPE_PERMISSIONS: dict[Scope, frozenset[Permission]] = {
    Scope.FULL: _EVERYTHING,
    Scope.AUTHORING: _EVERYTHING - {Permission.MANAGE_USERS},
    Scope.RUNTIME: frozenset({Permission.ANALYZE}),
}


def permissions_of(role: Role | None, scope: Scope) -> frozenset[Permission]:
    """What a key of ``scope`` may do: its scope's permissions, within its user's ``role``
    (None: a machine key, bounded by its scope alone). The only place this is decided."""
    allowed = _SCOPE_PERMISSIONS[scope]
    return allowed if role is None else allowed & _ROLE_PERMISSIONS[role]


# A user's name: it shows in histories and in URLs (``/users/{name}``), so it is short and
# needs no escaping.
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def check_user_name(value: str, target: str = "name") -> str:
    """``value`` if it can name a user, else the error saying what can."""
    if not _USER_NAME.fullmatch(value):
        raise InvalidParameterValue(
            f"user name {value!r} is not valid: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
            target=target,
        )
    return value


@dataclass(frozen=True, slots=True)
class User:
    """A person with a role; their keys are subscription keys that carry their name."""

    id: int
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def disabled(self) -> bool:
        """Whether the user's keys are refused."""
        return self.disabled_at is not None


#: The name recorded for the configured key (``LEXICRAFT_API_KEY``), which has no stored row.
CONFIGURED_KEY_NAME = "LEXICRAFT_API_KEY"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who sent a request: the key's user (None for a machine key) and the key itself.

    ``key_id`` is None for the configured key (``LEXICRAFT_API_KEY``), which has full rights.
    """

    key_name: str
    scope: Scope
    key_id: int | None = None
    user_id: int | None = None
    user_name: str | None = None
    role: Role | None = None

    @property
    def name(self) -> str:
        """Who to name in a document's history: the user, else the key."""
        return self.user_name if self.user_name is not None else self.key_name

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this actor may do."""
        return permissions_of(self.role, self.scope)

    def may(self, permission: Permission) -> bool:
        """Whether this actor has ``permission``."""
        return permission in self.permissions


#: The configured key's actor: a machine key with every right (scripts rely on it).
CONFIGURED_KEY = Actor(key_name=CONFIGURED_KEY_NAME, scope=Scope.FULL)
