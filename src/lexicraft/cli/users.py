"""``lexicraft users create|list|disable|enable|delete|add-key``: people and their keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lexicraft.bootstrap import open_context
from lexicraft.cli.common import load_settings
from lexicraft.domain.users import Role, Scope
from lexicraft.errors import LexicraftError
from lexicraft.services import users as user_service
from lexicraft.services.context import ServiceContext
from lexicraft.timeutil import format_datetime

app = typer.Typer(
    help="Manage users: people with a role (admin, annotator, reviewer) and their own keys."
)
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data folder.")]
UserName = Annotated[str, typer.Argument(help="The user's name.")]


def _context(data_dir: Path | None) -> ServiceContext:
    return open_context(load_settings(data_dir))


def _fail(error: LexicraftError) -> typer.Exit:
    typer.echo(f"error: {error.message}; see 'lexicraft users list'", err=True)
    return typer.Exit(1)


@app.command("create")
def create(
    name: UserName,
    role: Annotated[
        str, typer.Option(help="admin (everything), annotator (label) or reviewer.")
    ] = Role.ANNOTATOR.value,
    data_dir: DataDir = None,
) -> None:
    """Create a user and print their first key (it is shown only once)."""
    context = _context(data_dir)
    try:
        user, new = user_service.create_user(context.database, name, Role.parse(role))
    except LexicraftError as error:
        raise _fail(error) from error
    typer.echo(new.key)
    typer.echo(
        f"created user {user.name} ({user.role.value}) with key {new.stored.id}; store the key "
        "now, it is not shown again",
        err=True,
    )


@app.command("add-key")
def add_key(
    name: UserName,
    scope: Annotated[
        str, typer.Option(help="full (whatever the role allows), authoring or runtime.")
    ] = Scope.FULL.value,
    key_name: Annotated[str | None, typer.Option(help="A name for the key.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Make another key for a user and print it (shown only once)."""
    context = _context(data_dir)
    try:
        new = user_service.create_user_key(
            context.database, name, key_name=key_name, scope=Scope.parse(scope)
        )
    except LexicraftError as error:
        raise _fail(error) from error
    typer.echo(new.key)
    typer.echo(f"created key {new.stored.id} for {name}; it is not shown again", err=True)


@app.command("list")
def list_users(data_dir: DataDir = None) -> None:
    """List users (name, role, created, state)."""
    context = _context(data_dir)
    table = Table("name", "role", "created", "state")
    for user in user_service.list_users(context.database):
        state = "disabled " + format_datetime(user.disabled_at) if user.disabled_at else "active"
        table.add_row(user.name, user.role.value, format_datetime(user.created_at), state)
    Console().print(table)


def _set_disabled(name: str, disabled: bool, data_dir: Path | None) -> None:
    context = _context(data_dir)
    try:
        user_service.update_user(context.database, name, disabled=disabled)
    except LexicraftError as error:
        raise _fail(error) from error


@app.command("disable")
def disable(name: UserName, data_dir: DataDir = None) -> None:
    """Disable a user: their keys are refused (servers notice within their key cache's TTL)."""
    _set_disabled(name, True, data_dir)
    typer.echo(f"disabled user {name}")


@app.command("enable")
def enable(name: UserName, data_dir: DataDir = None) -> None:
    """Enable a disabled user again (their keys that were not revoked work again)."""
    _set_disabled(name, False, data_dir)
    typer.echo(f"enabled user {name}")


@app.command("set-role")
def set_role(
    name: UserName,
    role: Annotated[str, typer.Argument(help="admin, annotator or reviewer.")],
    data_dir: DataDir = None,
) -> None:
    """Change a user's role."""
    context = _context(data_dir)
    try:
        user_service.update_user(context.database, name, role=Role.parse(role))
    except LexicraftError as error:
        raise _fail(error) from error
    typer.echo(f"{name} is now {Role.parse(role).value}")
