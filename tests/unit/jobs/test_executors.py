"""Which executor the composition root builds, and that only the Ray one imports Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_PROBE = """
import sys
from lexicraft.bootstrap import open_context, worker_pools
from lexicraft.settings import Settings

context = open_context(Settings(data_dir=sys.argv[1], executor=sys.argv[2]))
worker_pools(context)  # the job table: every use case and ML backend
print(type(context.compute).__name__, "ray" in sys.modules)
if "ray" in sys.modules:
    import ray

    # Joined on first use only: composing a context connects to no cluster.
    print(ray.is_initialized())
"""


def probe(tmp_path: Path, executor: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path), executor],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_local_executor_is_the_default_and_never_imports_ray(tmp_path: Path) -> None:
    assert probe(tmp_path, "local") == ["LocalCompute", "False"]


def test_executor_ray_builds_the_ray_compute_without_joining_a_cluster(tmp_path: Path) -> None:
    assert probe(tmp_path, "ray") == ["RayCompute", "True", "False"]


def test_a_training_on_a_host_without_the_e5_build_fails_saying_how_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lexicraft.domain.projects import ProjectKind
    from lexicraft.domain.spans import Span
    from lexicraft.errors import JobFailure
    from lexicraft.jobs.executors.local import train_model
    from lexicraft.ml import e5_build
    from lexicraft.ml.base import NerExample

    missing = tmp_path / "venv-without-e5"
    monkeypatch.setattr(e5_build, "e5_dir", lambda: missing)
    examples = [NerExample("Anna lebt in Berlin.", (Span(0, 4, "PER"),))]

    with pytest.raises(JobFailure, match="make e5") as raised:
        train_model(
            ProjectKind.ENTITY_RECOGNITION, "ner.e5.v1", examples, ["PER"], tmp_path / "m",
            lambda _: None,
        )  # fmt: skip

    assert str(missing) not in raised.value.message  # no host path in a client's error
