"""Run the real ``lexicraft`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

LEXICRAFT = Path(sys.executable).with_name("lexicraft")


def run_cli(
    *args: str | Path,
    data_dir: Path | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout_s: float = 180,
) -> subprocess.CompletedProcess[str]:
    """``lexicraft ARGS`` with a clean LEXICRAFT_* environment; never raises on exit codes."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEXICRAFT_")}
    environment["PYTHONIOENCODING"] = "utf-8"
    environment.update(env or {})
    command = [str(LEXICRAFT), *map(str, args)]
    if data_dir is not None:
        command += ["--data-dir", str(data_dir)]
    return subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd,
        env=environment,
        timeout=timeout_s,
        check=False,
    )


def record_spans(record: dict[str, Any]) -> list[tuple[str, int, int]]:
    """``(category, offset, length)`` of a shared-data NER record, sorted."""
    return sorted((e["category"], e["offset"], e["length"]) for e in record["entities"])
