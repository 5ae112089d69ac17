"""Which permission each route needs, declared on the route, checked in one place.

The key middleware (:mod:`lexicraft.api.auth`) authenticates: it puts the request's
:class:`~lexicraft.domain.users.Actor` in the request state or answers 401. Authorization is
an :class:`Access` dependency that each protected route (or its router) declares: it answers
403 unless the actor has the permission the route needs for the request's method, and hands
the actor to routes that record who did what. :func:`undeclared_routes` finds a protected
route that declares none (or several); :func:`lexicraft.api.app.create_app` refuses to build
an app with one, so a new route cannot be forgotten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from lexicraft.api.auth import ACTOR, PROTECTED_PREFIXES
from lexicraft.domain.users import Actor, Permission
from lexicraft.errors import Forbidden, Unauthorized

_READS = frozenset({"GET", "HEAD"})


def request_actor(request: Request) -> Actor:
    """Who sent ``request`` (the key middleware put it in the request's state)."""
    actor = request.scope.get("state", {}).get(ACTOR)
    if not isinstance(actor, Actor):
        # Only on a route the middleware does not protect: a programming error, refused.
        raise Unauthorized("This route needs a subscription key.")
    return actor


def denied_message(actor: Actor, permission: Permission) -> str:
    """What a 403 says: who the key speaks for, and the permission it lacks."""
    if actor.user_name is not None and actor.role is not None:
        who = f"user {actor.user_name!r} (role {actor.role.value}, key scope {actor.scope.value})"
    else:
        who = f"key {actor.key_name!r} (scope {actor.scope.value})"
    return f"{who} lacks the '{permission.value}' permission this request needs."


@dataclass(frozen=True, slots=True)
class Access:
    """A route's permissions: ``read`` for GET and HEAD, ``write`` for every other method
    (None: any valid key). A FastAPI dependency returning the checked actor."""

    read: Permission | None
    write: Permission | None

    def needed(self, method: str) -> Permission | None:
        """The permission a ``method`` request needs."""
        return self.read if method.upper() in _READS else self.write

    async def __call__(self, request: Request) -> Actor:
        # async: a plain def dependency would cost a trip through the threadpool per request.
        actor = request_actor(request)
        permission = self.needed(request.method)
        if permission is not None and not actor.may(permission):
            raise Forbidden(denied_message(actor, permission))
        return actor


def needs(permission: Permission | None) -> Any:
    """A route dependency (``dependencies=[needs(…)]`` or ``Annotated[Actor, needs(…)]``)
    requiring ``permission`` whatever the method (None: any valid key)."""
    return Depends(Access(permission, permission))


def reads_and_writes(read: Permission, write: Permission) -> Any:
    """A router dependency: GET and HEAD need ``read``, other methods ``write``."""
    return Depends(Access(read, write))


#: The actor of a route that labels (and records who labeled).
Labeler = Annotated[Actor, needs(Permission.LABEL)]
#: The actor of a route that reviews labels (and records who reviewed).
Reviewer = Annotated[Actor, needs(Permission.REVIEW)]
#: The actor of a route that changes a project's content beyond labels.
Author = Annotated[Actor, needs(Permission.AUTHOR)]
#: The actor of a route that manages users.
UserManager = Annotated[Actor, needs(Permission.MANAGE_USERS)]
#: The actor of a route any valid key may call.
AnyActor = Annotated[Actor, needs(None)]


def _accesses(dependant: Dependant) -> Iterator[Access]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, Access):
            yield dependency.call
        yield from _accesses(dependency)


@dataclass(frozen=True, slots=True)
class ProtectedRoute:
    """A route behind the key: its path, methods and the :class:`Access` it declares (None:
    none, or several that disagree)."""

    path: str
    methods: frozenset[str]
    access: Access | None

    def permissions(self) -> dict[str, Permission | None]:
        """What each of the route's methods needs."""
        assert self.access is not None, self.path
        return {method: self.access.needed(method) for method in sorted(self.methods)}


def protected_routes(app: FastAPI) -> list[ProtectedRoute]:
    """Every route of ``app`` under the key's prefixes, with what it declares."""
    found = []
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        path = route.path
        if (
            isinstance(route.original_route, APIRoute)
            and isinstance(dependant, Dependant)
            and path is not None
            and path.startswith(PROTECTED_PREFIXES)
        ):
            accesses = set(_accesses(dependant))
            access = accesses.pop() if len(accesses) == 1 else None
            found.append(ProtectedRoute(path, frozenset(route.methods or ()), access))
    return found


def undeclared_routes(app: FastAPI) -> list[str]:
    """Every protected route that does not declare exactly one :class:`Access`:
    ``METHODS path`` each."""
    return [
        f"{','.join(sorted(route.methods))} {route.path}"
        for route in protected_routes(app)
        if route.access is None
    ]
