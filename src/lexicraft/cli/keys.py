"""``lexicraft keys create|list|revoke``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lexicraft.bootstrap import open_context
from lexicraft.cli.common import load_settings
from lexicraft.domain.users import Scope
from lexicraft.errors import LexicraftError
from lexicraft.services import keys as key_service
from lexicraft.timeutil import format_datetime

app = typer.Typer(help="Manage subscription keys (sent as Ocp-Apim-Subscription-Key).")
DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Data folder.")]


@app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "default",
    scope: Annotated[
        str,
        typer.Option(
            help="full (everything), authoring (everything but managing users) or runtime "
            "(only analyze)."
        ),
    ] = Scope.FULL.value,
    data_dir: DataDir = None,
) -> None:
    """Create a machine key (one of no user) and print it (it is shown only once).

    People get their own keys with 'lexicraft users create'.
    """
    try:
        chosen = Scope.parse(scope)
    except LexicraftError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from error
    context = open_context(load_settings(data_dir))
    created, key = key_service.create_key(context.database, name, chosen)
    typer.echo(key)
    typer.echo(
        f"created {chosen.value} key {created.id} ({name}); store it now, it is not shown again",
        err=True,
    )


@app.command("list")
def list_keys(data_dir: DataDir = None) -> None:
    """List keys (id, name, user, scope, first characters, state)."""
    context = open_context(load_settings(data_dir))
    table = Table("id", "name", "user", "scope", "starts with", "created", "state")
    for key in key_service.list_keys(context.database):
        state = "revoked " + format_datetime(key.revoked_at) if key.revoked_at else "active"
        table.add_row(
            str(key.id),
            key.name,
            key.user_name or "(machine)",
            key.scope.value,
            key.prefix + "…",
            format_datetime(key.created_at),
            state,
        )
    Console().print(table)


@app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="The id shown by 'keys list'.")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a key; requests with it are refused at once."""
    context = open_context(load_settings(data_dir))
    try:
        key_service.revoke_key(context.database, key_id)
    except LexicraftError as error:
        typer.echo(f"error: {error.message}; see 'lexicraft keys list'", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"revoked key {key_id}")
