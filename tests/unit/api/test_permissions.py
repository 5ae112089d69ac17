"""A route behind the key that forgets to declare its permission is found (and create_app
refuses to build with one); a route that declares two that disagree is found too."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from lexicraft.api.permissions import Labeler, needs, reads_and_writes, undeclared_routes
from lexicraft.domain.users import Actor, Permission, Role, Scope


def test_undeclared_routes_are_found() -> None:
    router = APIRouter(prefix="/language/lexicraft/things")

    @router.get("/declared", dependencies=[needs(Permission.VIEW)])
    def declared() -> None: ...

    @router.patch("/labeled")
    def labeled(actor: Labeler) -> str:
        return actor.name

    @router.delete("/forgotten")
    def forgotten() -> None: ...

    @router.put("/twice", dependencies=[needs(Permission.VIEW), needs(Permission.AUTHOR)])
    def twice() -> None: ...

    guarded = APIRouter(
        prefix="/text/things", dependencies=[reads_and_writes(Permission.VIEW, Permission.AUTHOR)]
    )

    @guarded.post("/by-method")
    def by_method() -> None: ...

    app = FastAPI()
    app.include_router(router)
    app.include_router(guarded)

    @app.get("/health")  # not behind the key: nothing to declare
    def health() -> None: ...

    assert undeclared_routes(app) == [
        "DELETE /language/lexicraft/things/forgotten",
        "PUT /language/lexicraft/things/twice",
    ]


def test_actor_names_the_user_else_the_key() -> None:
    user = Actor(key_name="laptop", scope=Scope.FULL, user_name="ana", role=Role.ANNOTATOR)
    machine = Actor(key_name="ci", scope=Scope.AUTHORING)
    assert (user.name, machine.name) == ("ana", "ci")
    assert user.may(Permission.LABEL) and not user.may(Permission.AUTHOR)
    assert machine.may(Permission.AUTHOR) and not machine.may(Permission.MANAGE_USERS)
