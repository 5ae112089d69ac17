"""``lexicraft backup DEST`` and ``lexicraft restore SRC``: a data dir, copied and put back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lexicraft.cli.common import load_settings
from lexicraft.services import backup as backup_service

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="LEXICRAFT_DATA_DIR",
        help="Data folder (default: ./.lexicraft).",
        show_default=False,
    ),
]


def backup(
    destination: Annotated[
        Path, typer.Argument(help="A new (or empty) folder to write the backup into.")
    ],
    data_dir: DataDir = None,
) -> None:
    """Back up the data dir: its SQLite database (online: servers may keep running), storage
    containers and trained models. With PostgreSQL, prints how to back up the database."""
    result = backup_service.backup(load_settings(data_dir), destination)
    database = (
        f"database (schema {result.schema_revision})"
        if result.database == "sqlite"
        else "no database"
    )
    typer.echo(
        f"backed up {result.files} files ({_size(result.size)}, {database}) to {result.location}"
    )
    for line in result.guidance:
        typer.echo(f"note: {line}", err=True)


def restore(
    source: Annotated[Path, typer.Argument(help="A folder written by 'lexicraft backup'.")],
    data_dir: DataDir = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a data dir that holds data (what is there is deleted)."
        ),
    ] = False,
) -> None:
    """Restore a backup into the data dir (stop its servers and workers first).

    Every file of the backup is checked before anything changes; the data dir is replaced
    whole, never left half-written. A data dir that holds anything is refused without --force.
    """
    result = backup_service.restore(load_settings(data_dir), source, force=force)
    typer.echo(f"restored {result.files} files into {result.data_dir}")
    for line in result.guidance:
        typer.echo(f"note: {line}", err=True)


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"
