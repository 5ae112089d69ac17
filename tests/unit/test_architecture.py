"""The layering of docs/architecture.md, checked on the source: edges → services → adapters."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import typing
from pathlib import Path

import pytest

import lexicraft
from lexicraft.storage.sql.tables import Base

PACKAGE = Path(lexicraft.__file__).parent

#: Which packages each layer must not import (directly, at any place in a module).
FORBIDDEN = {
    "api": ("lexicraft.storage", "lexicraft.ml", "lexicraft.jobs"),
    "studio": ("lexicraft.storage", "lexicraft.ml", "lexicraft.jobs"),
    "cli": ("lexicraft.storage",),
    "services": ("lexicraft.jobs", "lexicraft.api", "lexicraft.cli", "lexicraft.studio"),
    "domain": (
        "lexicraft.storage", "lexicraft.ml", "lexicraft.jobs", "lexicraft.services",
        "lexicraft.api", "lexicraft.cli",
    ),
    # The wire shapes sit beside domain: every edge (api, formats, cli) parses with them.
    "wire": (
        "lexicraft.storage", "lexicraft.ml", "lexicraft.jobs", "lexicraft.services",
        "lexicraft.api", "lexicraft.cli",
    ),
    "storage": ("lexicraft.services", "lexicraft.api", "lexicraft.cli", "lexicraft.jobs"),
    "ml": ("lexicraft.services", "lexicraft.api", "lexicraft.cli", "lexicraft.storage"),
    "jobs": ("lexicraft.services", "lexicraft.api", "lexicraft.cli"),
    # Metrics and log lines: the adapters (jobs, ml) and services count through it.
    "telemetry": (
        "lexicraft.storage", "lexicraft.ml", "lexicraft.jobs", "lexicraft.services",
        "lexicraft.api", "lexicraft.cli",
    ),
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer: str) -> None:
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in sorted(imported_modules(path))
        if name.startswith(FORBIDDEN[layer])
    ]
    assert offences == []


def test_the_checker_sees_an_offending_import(tmp_path: Path) -> None:
    module = tmp_path / "route.py"
    module.write_text("def f():\n    from lexicraft.storage.sql import models\n")
    assert "lexicraft.storage.sql.models" in imported_modules(module)


def _classes_in(annotation: object) -> list[type]:
    if isinstance(annotation, type):
        return [annotation]
    return [found for arg in typing.get_args(annotation) for found in _classes_in(arg)]


def test_services_return_no_sql_rows() -> None:
    services = importlib.import_module("lexicraft.services")
    checked = 0
    for info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"lexicraft.services.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            hints = typing.get_type_hints(function)
            rows = [c for c in _classes_in(hints.get("return")) if issubclass(c, Base)]
            assert rows == [], f"{module.__name__}.{name} returns {rows}"
            checked += 1
    assert checked > 40  # the walk really saw the use cases
