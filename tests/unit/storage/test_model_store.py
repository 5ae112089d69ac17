"""The trained-model repository on SQLite and on PostgreSQL: two trainings of one label.

Two trainings of the same label may finish at the same moment (two workers, or two threads
of one). The second to save must replace the first's model, as a retrain does, never fail
on the label's unique key. The test makes the race certain: the second saver is let go only
once the first has written its row but not committed it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event

from lexicraft.domain.models import ModelEvaluation, TrainedModel
from lexicraft.domain.projects import Project, ProjectKind
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql.engine import Database, migrate
from lexicraft.storage.sql.tables import ProjectRow
from lexicraft.timeutil import utcnow


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database holding project ``people``: a SQLite file, or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'models.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = Database(url)
    migrate(database.engine)  # a no-op once the module's database is at the newest revision
    with database.session() as session:
        session.execute(delete(ProjectRow))
        project_store.save_metadata(
            session, Project("people", ProjectKind.ENTITY_RECOGNITION, "en", "people")
        )
    database.engine.dispose()
    yield url


def model(artifact_dir: str) -> TrainedModel:
    return TrainedModel(
        project_name="people", label="m1", model_id=f"m1-{artifact_dir}",
        training_config_version="2022-05-01", artifact_dir=artifact_dir, trained_at=utcnow(),
        training_duration_s=1.0, expiration_date="2030-01-01", backend="crf",
    )  # fmt: skip


def test_the_second_of_two_concurrent_saves_of_a_label_replaces_the_first(url: str) -> None:
    first, second = Database(url), Database(url)
    about_to_write = threading.Event()

    @event.listens_for(second.engine, "before_cursor_execute")
    def _first_write(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Whatever the second saver writes first, it has read everything it reads before.
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            about_to_write.set()

    outcome: list[str | BaseException | None] = []

    def save_second() -> None:
        try:
            with second.session() as session:
                outcome.append(
                    model_store.save_model(session, model("b"), ModelEvaluation({}, {}, ()))
                )
        except BaseException as error:
            outcome.append(error)

    with first.session() as session:
        assert model_store.save_model(session, model("a"), ModelEvaluation({}, {}, ())) is None
        thread = threading.Thread(target=save_second)
        thread.start()
        assert about_to_write.wait(60), "the second save never got to write"
    # The first commits only now, with the second saver already past its reads.
    thread.join(60)
    assert outcome == ["a"]  # the second replaced the first's model and says so
    with first.session() as session:
        (stored,) = model_store.list_models(session, "people")
    assert (stored.label, stored.artifact_dir, stored.model_id) == ("m1", "b", "m1-b")
    first.engine.dispose()
    second.engine.dispose()
