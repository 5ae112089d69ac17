"""The model-folder contract: the one place a model folder's ``config.json`` is read and written.

Every model folder holds ``config.json``: ``format_version`` (the layout of the folder),
``backend`` (the registered name whose code loads it) and that backend's own fields, among them
the hyperparameters it was trained with. Each backend describes its fields as a subclass of
:class:`ModelConfig`; :func:`write_config` writes one and :func:`read_config` reads one back,
validated. A folder whose ``format_version`` is missing, unknown or newer than this code, or
whose fields do not match its backend's config, raises :class:`ModelFormatError` naming the
folder and what is wrong, rather than a ``KeyError`` or ``TypeError`` from deep inside a loader.

The file is plain JSON (no pickle): loading a model never runs code from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = [
    "FORMAT_VERSION",
    "MODEL_CONFIG_FILE",
    "SUPPORTED_FORMAT_VERSIONS",
    "ModelConfig",
    "ModelFormatError",
    "TrainedLength",
    "read_backend_name",
    "read_config",
    "read_held_out_choice",
    "read_trained_length",
    "write_config",
]

#: The file every model folder holds.
MODEL_CONFIG_FILE = "config.json"
#: The layout this code writes. Bump it (and keep reading the old one) when the folder layout
#: changes in a way a reader must know about; a changed *behaviour* gets a new backend name.
FORMAT_VERSION = 1
#: The layouts this code reads.
SUPPORTED_FORMAT_VERSIONS: tuple[int, ...] = (1,)


class ModelFormatError(ValueError):
    """A model folder this code cannot read: no or unreadable ``config.json``, a missing,
    unknown or newer ``format_version``, or fields that do not match its backend."""


class ModelConfig(BaseModel):
    """The fields of every model folder's ``config.json``; backends subclass it with theirs."""

    # Frozen: a config read from a folder describes that folder; change it with model_copy.
    # Extra keys are refused so that a misspelt or unknown field is an error, not ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")

    backend: str
    format_version: int = FORMAT_VERSION
    labels: tuple[str, ...]


ConfigT = TypeVar("ConfigT", bound=ModelConfig)


def write_config(model_dir: Path, config: ModelConfig) -> None:
    """Write ``config`` as ``model_dir``'s ``config.json`` (creating the folder)."""
    if config.format_version != FORMAT_VERSION:
        raise ValueError(
            f"this code writes format_version {FORMAT_VERSION}, not {config.format_version}"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    (model_dir / MODEL_CONFIG_FILE).write_text(text, encoding="utf-8")


def read_config(model_dir: Path, config_type: type[ConfigT], backend: str | None = None) -> ConfigT:
    """``model_dir``'s config as ``config_type``; ``backend``: the name the folder must have."""
    raw = _read_checked(model_dir)
    if backend is not None and raw["backend"] != backend:
        raise ModelFormatError(
            f"{model_dir} holds a {raw['backend']!r} model, not a {backend!r} one"
        )
    try:
        return config_type.model_validate(raw)
    except ValidationError as error:
        raise ModelFormatError(
            f"{model_dir / MODEL_CONFIG_FILE} is not a valid {raw['backend']!r} config: "
            f"{_problems(error)}"
        ) from error


def read_backend_name(model_dir: Path) -> str:
    """The backend name recorded in ``model_dir``'s ``config.json`` (its version checked)."""
    backend: str = _read_checked(model_dir)["backend"]
    return backend


@dataclass(frozen=True, slots=True)
class TrainedLength:
    """How long a model trained, as its folder records it."""

    planned_steps: int
    trained_steps: int
    #: The wall-clock cap it trained under (None: none).
    time_budget_s: float | None

    @property
    def stopped_early(self) -> bool:
        """Whether the wall-clock cap cut training short of the steps the data asked for."""
        return self.trained_steps < self.planned_steps


def read_trained_length(model_dir: Path) -> TrainedLength | None:
    """The steps planned and trained that ``model_dir``'s config records (backends that train
    in steps write ``planned_steps`` and ``trained_steps``); None for any other folder."""
    raw = _read_checked(model_dir)
    planned, trained = raw.get("planned_steps"), raw.get("trained_steps")
    if not isinstance(planned, int) or not isinstance(trained, int):
        return None
    settings = raw.get("hyperparameters")
    budget = settings.get("time_budget_s") if isinstance(settings, dict) else None
    return TrainedLength(
        planned, trained, float(budget) if isinstance(budget, int | float) else None
    )


def read_held_out_choice(model_dir: Path) -> dict[str, Any] | None:
    """What training chose on documents it held out (candidates' scores there, weights,
    calibration), as a backend that holds documents out records it in ``config.json``'s
    ``held_out``; None for any other folder, or when too few documents were held out."""
    choice = _read_checked(model_dir).get("held_out")
    return choice if isinstance(choice, dict) else None


def _read_checked(model_dir: Path) -> dict[str, Any]:
    """The parsed ``config.json``, with a supported ``format_version`` and a string ``backend``."""
    path = model_dir / MODEL_CONFIG_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ModelFormatError(
            f"{model_dir} is not a model folder: it has no {MODEL_CONFIG_FILE}"
        ) from error
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelFormatError(f"{path} cannot be read as JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ModelFormatError(f"{path} holds {type(raw).__name__}, not a JSON object")
    version = raw.get("format_version")
    supported = list(SUPPORTED_FORMAT_VERSIONS)
    # bool is an int subclass; ``true`` is no version.
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFormatError(
            f"{path} has no integer 'format_version' (found {version!r}); this code reads "
            f"format versions {supported}"
        )
    if version not in SUPPORTED_FORMAT_VERSIONS:
        newer = (
            " (written by a newer Lexicraft; upgrade to load it)"
            if version > max(supported)
            else ""
        )
        raise ModelFormatError(
            f"{path} has format_version {version}{newer}; this code reads format versions "
            f"{supported}"
        )
    if not isinstance(raw.get("backend"), str):
        raise ModelFormatError(f"{path} has no string 'backend' entry")
    return raw


def _problems(error: ValidationError) -> str:
    """The validation errors as one line: ``field.path: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or '(config)'}: {problem['msg']}"
        for problem in error.errors()
    )
