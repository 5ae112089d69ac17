"""Helpers shared by the benchmarks: data, capped subprocesses, sizes, results files.

Standard library only, so that scripts run in other environments (``.venv-bench`` for spaCy)
can import it too: a script's own folder is first on ``sys.path``, so ``import common`` works
from any ``bench/*.py`` run as ``python bench/NAME.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The repository root (``bench/`` is one level below it).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variable that points the benchmarks at another data folder.
DATA_DIR_VARIABLE = "LEXICRAFT_BENCH_DATA"


# --- data ------------------------------------------------------------------------------------


def data_dir() -> Path:
    """The shared datasets: ``../shared/data`` relative to the repository root."""
    override = os.environ.get(DATA_DIR_VARIABLE)
    return Path(override) if override else REPO_ROOT.parent / "shared" / "data"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file (blank lines skipped)."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def write_jsonl(path: Path, records: Sequence[Mapping[str, Any]]) -> None:
    """Write ``records`` as JSON Lines (UTF-8, one object per line)."""
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def dataset_splits(dataset: str) -> list[str]:
    """The splits a shared dataset has (``train``, ``dev``, ``test``), in that order."""
    folder = data_dir() / dataset
    if not folder.is_dir():
        raise FileNotFoundError(f"dataset {dataset!r} not found under {data_dir()}")
    return [split for split in ("train", "dev", "test") if (folder / f"{split}.jsonl").is_file()]


def load_split(dataset: str, split: str) -> list[dict[str, Any]]:
    """One split of a shared dataset, e.g. ``load_split("banking77", "train")``."""
    path = data_dir() / dataset / f"{split}.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; splits: {dataset_splits(dataset)}")
    return read_jsonl(path)


# --- measuring -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CappedRun:
    """How a subprocess run under :func:`run_capped` ended."""

    returncode: int
    #: Wall-clock seconds from start until the process was reaped.
    wall_s: float
    #: Peak resident memory in MiB: the larger of the process's own peak and that of any
    #: descendant it waited for (Linux ``wait4`` reports both), so a training script that runs
    #: its trainer as a child still reports the trainer's peak.
    peak_mb: float
    #: True when the cap was reached and the process group was signalled.
    capped: bool

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.capped


def run_capped(
    command: Sequence[str],
    cap_s: float,
    *,
    log_path: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stop_signal: int = signal.SIGTERM,
    grace_s: float = 30.0,
) -> CappedRun:
    """Run ``command`` with a wall-clock cap; measure its time and peak memory.

    The command runs in its own process group. At ``cap_s`` seconds the group gets
    ``stop_signal`` (SIGINT lets Python programs clean up); whatever is still alive
    ``grace_s`` seconds later gets SIGKILL. stdout and stderr go to ``log_path`` (or are
    discarded). The peak memory comes from the kernel's accounting of the reaped process, so
    there is no sampling gap.
    """
    log = log_path.open("wb") if log_path is not None else subprocess.DEVNULL
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        capped = threading.Event()

        def signal_group(signum: int) -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)

        def stop() -> None:
            capped.set()
            signal_group(stop_signal)
            killer = threading.Timer(grace_s, signal_group, args=(signal.SIGKILL,))
            killer.daemon = True
            killer.start()

        timer = threading.Timer(cap_s, stop)
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            signal_group(signal.SIGKILL)
            raise
        finally:
            timer.cancel()
        wall_s = time.perf_counter() - started
        returncode = os.waitstatus_to_exitcode(status)
        # Reaped here with wait4, so tell Popen, which would otherwise wait for it again.
        process.returncode = returncode
        if capped.is_set():
            # A stopped group may leave grandchildren behind for a moment; none may survive.
            signal_group(signal.SIGKILL)
    finally:
        if log_path is not None and not isinstance(log, int):
            log.close()
    # ru_maxrss is in KiB on Linux.
    return CappedRun(returncode, wall_s, usage.ru_maxrss / 1024.0, capped.is_set())


#: Time a capped Lexicraft training needs besides its training loop: reading the data,
#: loading the pretrained encoder, tokenizing, saving the model.
BUDGET_MARGIN_S = 150.0


def within_cap(backend: Any, cap_s: float | None) -> Any:
    """``backend``, or a copy whose wall-clock cap (``time_budget_s``) fits inside ``cap_s``.

    The defaults train for as many steps as their data asks (no wall-clock cap), sized so the
    benchmark sets fit in the benches' caps on the reference machine. A slower machine would
    overrun the cap and lose the run, so a backend that has the option gets the cap less the
    time to read data, load and save the model as its budget: a safety net that does not bind
    on the reference machine. When it does, the entry's ``trained_steps`` fall short of its
    ``planned_steps`` (see :func:`trained_length`).
    """
    settings = getattr(backend, "hyperparameters", None)
    if cap_s is None or not hasattr(settings, "time_budget_s"):
        return backend
    budget = cap_s - BUDGET_MARGIN_S
    if settings.time_budget_s is not None and settings.time_budget_s <= budget:
        return backend
    print(f"time budget {budget:.0f} s (cap {cap_s:.0f} s)", flush=True)
    return type(backend)(dataclasses.replace(settings, time_budget_s=budget))


def trained_length(model_dir: Path) -> dict[str, int]:
    """``planned_steps`` and ``trained_steps`` of a Lexicraft model that trains in steps
    (fewer trained than planned: the cap's budget cut it short); empty for any other."""
    from lexicraft.ml.artifacts import read_trained_length

    length = read_trained_length(model_dir)
    if length is None:
        return {}
    return {"planned_steps": length.planned_steps, "trained_steps": length.trained_steps}


def directory_size_mb(path: Path) -> float:
    """Total size of the regular files under ``path`` (or of ``path`` itself), in MiB."""
    if path.is_file():
        return path.stat().st_size / 2**20
    total = sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
    return total / 2**20


def log_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


# --- results ---------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """CPU, memory and Python of this machine, for a results file's ``meta``."""
    cpu = platform.processor() or platform.machine()
    memory_gb: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gb": memory_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def git_revision() -> str | None:
    """The checked-out commit (short), with ``-dirty`` when the tree has changes."""
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{revision}-dirty" if dirty else revision


def now_iso() -> str:
    """The current UTC time, to the second, ISO 8601."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def command_line() -> str:
    """How this process was started, shell-quoted, relative to the repository root."""
    return shlex.join([Path(sys.executable).name, *sys.argv])


def load_results(path: Path) -> dict[str, Any]:
    """A results file, or an empty ``{"runs": {}, "meta": {}}`` if there is none yet."""
    if not path.is_file():
        return {"runs": {}, "meta": {}}
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    results.setdefault("runs", {})
    results.setdefault("meta", {})
    return results


def merge_runs(results: dict[str, Any], runs: Mapping[str, Mapping[str, Any]]) -> None:
    """Put ``runs`` ({GROUP: {SYSTEM: entry}}) into ``results``, keeping every other entry."""
    for group, systems in runs.items():
        results["runs"].setdefault(group, {}).update(systems)


def save_results(path: Path, results: Mapping[str, Any]) -> None:
    """Write a results file (pretty JSON, trailing newline), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def format_cell(value: object, digits: int = 1) -> str:
    """A table cell: numbers rounded, ``None`` as an en dash, anything else as text."""
    if value is None:
        return "\u2013"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value).replace("|", "\\|")


def markdown_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
) -> str:
    """A Markdown table: ``columns`` are (key, heading) pairs; numbers right-aligned."""
    formatters = formatters or {}
    header = "| " + " | ".join(heading for _, heading in columns) + " |"
    alignment = "|" + "|".join(
        "---:" if any(isinstance(row.get(key), int | float) for row in rows) else "---"
        for key, _ in columns
    )
    lines = [header, alignment + "|"]
    for row in rows:
        cells = [formatters.get(key, format_cell)(row.get(key)) for key, _ in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
