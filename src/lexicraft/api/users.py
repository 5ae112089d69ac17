"""People and their keys (a Lexicraft extension): ``/language/lexicraft/users…`` and ``/me``.

An admin (a key with the manageUsers permission) creates users with a role, changes their role,
disables or deletes them, and makes or revokes their keys; a new key is in the answer once and
never again. ``GET /language/lexicraft/me`` tells any valid key who it speaks for and what it
may do (the Studio shows and hides its controls by it). A change here takes effect on this
server's next request: its remembered key checks are dropped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import ConfigDict, StrictBool, StrictStr

from lexicraft.api.authoring.render import page
from lexicraft.api.authoring.responses import ok
from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import AnyActor, UserManager
from lexicraft.api.requests import WireModel
from lexicraft.domain.keys import ApiKey
from lexicraft.domain.users import Actor, Permission, Role, Scope, User
from lexicraft.services import users
from lexicraft.services.keys import KeyVerifier
from lexicraft.services.users import NewKey
from lexicraft.timeutil import format_datetime

PREFIX = "/language/lexicraft"
#: A key's id as ``users/{name}/keys`` lists it: a positive integer a database column holds
#: (a larger one would be a driver error, not a 404).
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
router = APIRouter(prefix=PREFIX, tags=["users"], responses=ERRORS)


# -- wire → values -----------------------------------------------------------------------------


class UserCreate(WireModel):
    """``POST …/users``: a user's name and role; the answer carries their first key."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "ana", "role": "annotator"}]}
    )

    name: StrictStr
    role: StrictStr
    key_name: StrictStr | None = None


class UserPatch(WireModel):
    """``PATCH …/users/{name}``: only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"disabled": True}]})

    role: StrictStr | None = None
    disabled: StrictBool | None = None


class KeyCreate(WireModel):
    """``POST …/users/{name}/keys``: a name for the key (default: the user's) and its scope."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "ana-laptop", "scope": "full"}]}
    )

    name: StrictStr | None = None
    scope: StrictStr = Scope.FULL.value


# -- response shapes ---------------------------------------------------------------------------


class ResponseShape(WireModel):
    """A response shape of the users API (documented in /openapi.json)."""

    model_config = ConfigDict(extra="forbid")


class UserRead(ResponseShape):
    """A user."""

    name: str
    role: Role
    disabled: bool
    created_date_time: str
    disabled_date_time: str | None = None


class UsersPage(ResponseShape):
    """Every user, oldest first."""

    value: list[UserRead]
    next_link: str | None = None


class KeyRead(ResponseShape):
    """A key's public facts (never the key itself)."""

    id: int
    name: str
    prefix: str
    scope: Scope
    user_name: str | None
    created_date_time: str
    revoked_date_time: str | None = None


class NewKeyRead(KeyRead):
    """A key just made: ``key`` is shown this once; send it as ``Ocp-Apim-Subscription-Key``."""

    key: str


class KeysPage(ResponseShape):
    """A user's keys, revoked ones included, newest last."""

    value: list[KeyRead]
    next_link: str | None = None


class UserCreated(UserRead):
    """A new user and their first key."""

    new_key: NewKeyRead


class MeRead(ResponseShape):
    """Who the key speaks for and what it may do."""

    name: str
    user_name: str | None
    role: Role | None
    key_name: str
    scope: Scope
    permissions: list[Permission]


# -- values → wire -----------------------------------------------------------------------------


def _render_user(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "createdDateTime": format_datetime(user.created_at),
        "disabledDateTime": format_datetime(user.disabled_at) if user.disabled_at else None,
    }


def _render_key(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scope": key.scope.value,
        "userName": key.user_name,
        "createdDateTime": format_datetime(key.created_at),
        "revokedDateTime": format_datetime(key.revoked_at) if key.revoked_at else None,
    }


def _render_new_key(new: NewKey) -> dict[str, Any]:
    return {**_render_key(new.stored), "key": new.key}


def _render_me(actor: Actor) -> dict[str, Any]:
    return {
        "name": actor.name,
        "userName": actor.user_name,
        "role": actor.role.value if actor.role else None,
        "keyName": actor.key_name,
        "scope": actor.scope.value,
        # In the enum's order, so the answer is stable.
        "permissions": [p.value for p in Permission if p in actor.permissions],
    }


def _forget_keys(request: Request) -> None:
    """Drop this server's remembered key checks: a disabled user or revoked key is refused
    on the next request."""
    verifier: KeyVerifier = request.app.state.key_verifier
    verifier.forget()


# -- routes ------------------------------------------------------------------------------------


@router.get("/me", responses=ok(MeRead))
def who_am_i(actor: AnyActor) -> dict[str, Any]:
    return _render_me(actor)


@router.get("/users", responses=ok(UsersPage))
def list_users(request: Request, context: Context, _actor: UserManager) -> dict[str, Any]:
    found = users.list_users(context.database)
    return page(request, found, _render_user, context.settings.default_page_size)


@router.post(
    "/users",
    status_code=201,
    responses={201: {"model": UserCreated, "description": "Created, with the user's first key."}},
)
def create_user(body: UserCreate, context: Context, _actor: UserManager) -> dict[str, Any]:
    user, key = users.create_user(
        context.database, body.name, Role.parse(body.role), key_name=body.key_name
    )
    return {**_render_user(user), "newKey": _render_new_key(key)}


@router.get("/users/{user_name}", responses=ok(UserRead))
def get_user(user_name: str, context: Context, _actor: UserManager) -> dict[str, Any]:
    return _render_user(users.get_user(context.database, user_name))


@router.patch("/users/{user_name}", responses=ok(UserRead))
def update_user(
    user_name: str, body: UserPatch, request: Request, context: Context, actor: UserManager
) -> dict[str, Any]:
    role = Role.parse(body.role) if body.role is not None else None
    user = users.update_user(
        context.database, user_name, role=role, disabled=body.disabled, actor=actor
    )
    _forget_keys(request)
    return _render_user(user)


@router.delete("/users/{user_name}", status_code=204)
def delete_user(user_name: str, request: Request, context: Context, actor: UserManager) -> Response:
    users.delete_user(context.database, user_name, actor=actor)
    _forget_keys(request)
    return Response(status_code=204)


@router.get("/users/{user_name}/keys", responses=ok(KeysPage))
def list_keys(
    user_name: str, request: Request, context: Context, _actor: UserManager
) -> dict[str, Any]:
    found = users.list_user_keys(context.database, user_name)
    return page(request, found, _render_key, context.settings.default_page_size)


@router.post(
    "/users/{user_name}/keys",
    status_code=201,
    responses={201: {"model": NewKeyRead, "description": "Created; the key is shown once."}},
)
def create_key(
    user_name: str, body: KeyCreate, context: Context, _actor: UserManager
) -> dict[str, Any]:
    scope = Scope.parse(body.scope)
    new = users.create_user_key(context.database, user_name, key_name=body.name, scope=scope)
    return _render_new_key(new)


@router.delete("/users/{user_name}/keys/{key_id}", status_code=204)
def revoke_key(
    user_name: str, key_id: KeyId, request: Request, context: Context, _actor: UserManager
) -> Response:
    users.revoke_user_key(context.database, user_name, key_id)
    _forget_keys(request)
    return Response(status_code=204)
