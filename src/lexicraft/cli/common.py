"""Helpers shared by CLI commands."""

from __future__ import annotations

from pathlib import Path

from lexicraft.settings import Settings


def load_settings(data_dir: Path | None) -> Settings:
    """Settings from the environment, with ``--data-dir`` taking precedence."""
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings
