"""The ``lexicraft`` command: serve, worker, keys, demo set-up, backup and restore, and the
authoring workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lexicraft.cli import backup, data, jobs, keys, models, predict, projects, users, worker
from lexicraft.cli.console import LexicraftGroup

app = typer.Typer(
    help="Lexicraft: custom NER, text classification and conversational language understanding "
    "(CLU) behind the Azure AI Language API.\n\n"
    "Work on the local data dir (--data-dir, LEXICRAFT_DATA_DIR) or on a server "
    "(--endpoint and --key, LEXICRAFT_ENDPOINT and LEXICRAFT_KEY). Start with "
    "'lexicraft import FILE --project NAME', then 'train', 'deploy' and 'predict'.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LexicraftGroup,
)
app.add_typer(keys.app, name="keys")
app.add_typer(users.app, name="users")
app.add_typer(projects.app, name="project")
app.command("import")(data.import_file)
app.command("export")(data.export)
app.command("convert")(data.convert)
app.command("train")(models.train)
app.command("evaluate")(models.evaluate)
app.command("deploy")(models.deploy)
app.command("export-model")(models.export_model)
app.command("predict")(predict.predict)
app.add_typer(jobs.app, name="jobs")
app.command("worker")(worker.worker)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data folder (default: $LEXICRAFT_DATA_DIR or ./.lexicraft)."),
]


@app.command("demo")
def demo(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Data folder.")] = None,
    port: Annotated[int, typer.Option(help="Port shown in the example call.")] = 5000,
) -> None:
    """Migrate, make sure a key exists, deploy the demo projects, print how to call them."""
    # Imported when run: the demo pulls in every ML backend, which slows down every other
    # command by over a second if imported up front. Options mirror cli/demo.set_up_demo.
    from lexicraft.cli.demo import set_up_demo

    set_up_demo(data_dir=data_dir, port=port)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    data_dir: DataDir = None,
    no_workers: Annotated[
        bool,
        typer.Option(
            "--no-workers", help="Serve the API only; 'lexicraft worker' processes run the jobs."
        ),
    ] = False,
) -> None:
    """Serve the Azure-compatible API (and run the job workers) until interrupted."""
    import uvicorn

    from lexicraft.api.app import create_app
    from lexicraft.api.server import server_config
    from lexicraft.cli.common import load_settings
    from lexicraft.telemetry.logs import configure_logging

    settings = load_settings(data_dir)
    # An unreachable database or an old schema ends here as one line (LexicraftGroup).
    application = create_app(settings, run_workers=not no_workers)
    # Our configuration, not uvicorn's: its lines and ours share one format (text or JSON).
    configure_logging(settings.log_format)
    config = server_config(
        application, settings, host=host, port=port, log_level="info", log_config=None
    )
    uvicorn.Server(config).run()


@app.command()
def migrate(data_dir: DataDir = None) -> None:
    """Create or upgrade the database schema (run once before starting servers on a new version)."""
    from lexicraft.bootstrap import database_location, open_context
    from lexicraft.cli.common import load_settings

    context = open_context(load_settings(data_dir), migrate_schema=True)
    context.database.engine.dispose()
    typer.echo(f"database ready: {database_location(context)}")
