"""Where the shared datasets live and how to read them (never copied into this repository)."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any


def shared_data_dir() -> Path:
    """The shared dataset folder: ``shared/data`` next to the repository root."""
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def read_jsonl(name: str, split: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The first ``limit`` records (all if ``None``) of dataset ``name``'s ``split`` file."""
    path = shared_data_dir() / name / f"{split}.jsonl"
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in islice(lines, limit) if line.strip()]
