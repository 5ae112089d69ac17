"""Shared by the spaCy baseline scripts (run inside .venv-bench): capped training, model choice."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import spacy
from common import CappedRun, log_tail, run_capped

#: Seconds spaCy gets after SIGINT to write model-last before it is killed.
SAVE_GRACE_S = 60.0


class SpacyTrainingFailed(Exception):
    """``spacy train`` failed, or left no model that loads."""


def loads(model_dir: Path) -> bool:
    """Whether ``model_dir`` holds a pipeline that spaCy can load (a cut-short copy does not)."""
    if not (model_dir / "meta.json").is_file():
        return False
    try:
        spacy.load(model_dir)
    except Exception:
        return False
    return True


def train_capped(config_path: Path, work: Path, cap_s: float) -> tuple[Path, CappedRun]:
    """Run ``spacy train`` on ``work``'s train/dev DocBins for at most ``cap_s`` seconds.

    At the cap spaCy gets SIGINT (its training loop saves model-last on the way out); the result
    is model-best when it loads, else model-last.
    """
    output = work / "output"
    log_path = work / "spacy-train.log"
    run = run_capped(
        [
            sys.executable, "-m", "spacy", "train", str(config_path), "--output", str(output),
            "--paths.train", str(work / "train.spacy"), "--paths.dev", str(work / "dev.spacy"),
        ],
        max(1.0, cap_s),
        log_path=log_path,
        stop_signal=signal.SIGINT,
        grace_s=SAVE_GRACE_S,
    )  # fmt: skip
    if not run.capped and run.returncode != 0:
        raise SpacyTrainingFailed(f"spacy train failed ({run.returncode}):\n{log_tail(log_path)}")
    for candidate in (output / "model-best", output / "model-last"):
        if loads(candidate):
            return candidate, run
    raise SpacyTrainingFailed(f"no usable model in {output}:\n{log_tail(log_path)}")
