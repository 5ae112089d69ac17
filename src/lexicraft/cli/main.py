"""The ``lexicraft`` command: serve, keys, demo set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lexicraft.cli import demo, keys

app = typer.Typer(
    help="Lexicraft: custom NER and text classification behind the Azure AI Language API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(keys.app, name="keys")
app.command("demo")(demo.set_up_demo)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $LEXICRAFT_DATA_DIR or ./.lexicraft)."),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    data_dir: DataDir = None,
) -> None:
    """Serve the Azure-compatible API (and run the job workers) until interrupted."""
    import uvicorn

    from lexicraft.api.app import create_app
    from lexicraft.cli.common import load_settings

    settings = load_settings(data_dir)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the database schema."""
    from lexicraft.cli.common import load_settings
    from lexicraft.services.context import ServiceContext

    settings = load_settings(data_dir)
    ServiceContext.open(settings)
    typer.echo(f"database ready: {settings.resolved_database_url}")
