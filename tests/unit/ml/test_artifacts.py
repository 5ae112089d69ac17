"""The model-folder contract: one typed ``config.json``, its ``format_version`` checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lexicraft.ml.artifacts import (
    FORMAT_VERSION,
    MODEL_CONFIG_FILE,
    SUPPORTED_FORMAT_VERSIONS,
    ModelConfig,
    ModelFormatError,
    read_backend_name,
    read_config,
    write_config,
)
from lexicraft.ml.base import NerExample, Span
from lexicraft.ml.ner.crf import CrfConfig, CrfHyperparameters, CrfNerBackend
from lexicraft.ml.registry import (
    UnknownBackendError,
    get_ner_backend,
    load_classification_predictor,
    load_ner_predictor,
    prepare_for_serving,
)

EXAMPLES = [
    NerExample("Bob went to Paris.", (Span(0, 3, "PER"), Span(12, 17, "LOC"))),
    NerExample("Alice flew to Rome.", (Span(0, 5, "PER"), Span(14, 18, "LOC"))),
]


def write_raw(folder: Path, config: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MODEL_CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture
def crf_dir(tmp_path: Path) -> Path:
    CrfNerBackend().train(EXAMPLES, ["PER", "LOC"], tmp_path / "crf")
    return tmp_path / "crf"


def edit_config(folder: Path, **changes: Any) -> None:
    config = json.loads((folder / MODEL_CONFIG_FILE).read_text(encoding="utf-8"))
    config.update(changes)
    (folder / MODEL_CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")


def test_a_written_config_reads_back_equal(tmp_path: Path) -> None:
    config = CrfConfig(
        backend="ner.crf.v1", labels=("PER",), hyperparameters=CrfHyperparameters(c1=0.5)
    )

    write_config(tmp_path, config)

    assert read_config(tmp_path, CrfConfig) == config
    stored = json.loads((tmp_path / MODEL_CONFIG_FILE).read_text(encoding="utf-8"))
    assert stored["format_version"] == FORMAT_VERSION
    assert stored["hyperparameters"]["c1"] == 0.5


def test_train_uses_and_stores_the_hyperparameters_it_is_given(tmp_path: Path) -> None:
    backend = get_ner_backend("ner.crf.v1")
    settings = CrfHyperparameters(max_iterations=3, c1=0.25)

    backend.train(EXAMPLES, ["PER", "LOC"], tmp_path / "given", hyperparameters=settings)  # type: ignore[call-arg]
    backend.train(EXAMPLES, ["PER", "LOC"], tmp_path / "default")

    assert read_config(tmp_path / "given", CrfConfig).hyperparameters == settings
    # The shared registry backend kept its own defaults.
    assert read_config(tmp_path / "default", CrfConfig).hyperparameters == CrfHyperparameters()


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (None, r"no integer 'format_version' \(found None\).*\[1\]"),
        ("1", r"no integer 'format_version' \(found '1'\)"),
        (True, r"no integer 'format_version' \(found True\)"),
        (0, r"format_version 0; this code reads format versions \[1\]"),
        (FORMAT_VERSION + 1, r"format_version 2 \(written by a newer Lexicraft.*\[1\]"),
    ],
)
def test_an_unsupported_format_version_is_a_clear_error(
    crf_dir: Path, version: object, message: str
) -> None:
    config = json.loads((crf_dir / MODEL_CONFIG_FILE).read_text(encoding="utf-8"))
    if version is None:
        del config["format_version"]
    else:
        config["format_version"] = version
    write_raw(crf_dir, config)

    for read in (read_backend_name, load_ner_predictor, prepare_for_serving):
        with pytest.raises(ModelFormatError, match=message):
            read(crf_dir)
    with pytest.raises(ModelFormatError, match=message):
        CrfNerBackend().load(crf_dir)


def test_supported_versions_include_the_written_one() -> None:
    assert FORMAT_VERSION in SUPPORTED_FORMAT_VERSIONS
    assert issubclass(ModelFormatError, ValueError)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": "PER"}, r"labels"),
        ({"hyperparameters": {"c1": -1.0}}, r"hyperparameters.*c1 and c2 must be >= 0"),
        ({"hyperparameters": {"retired_setting": 1}}, r"hyperparameters\.retired_setting"),
        ({"surprise": 1}, r"surprise"),
    ],
)
def test_fields_that_do_not_match_the_backend_are_a_clear_error(
    crf_dir: Path, changes: dict[str, Any], message: str
) -> None:
    edit_config(crf_dir, **changes)

    with pytest.raises(ModelFormatError, match=message):
        load_ner_predictor(crf_dir)


def test_a_missing_field_is_a_clear_error_not_a_key_error(crf_dir: Path) -> None:
    config = json.loads((crf_dir / MODEL_CONFIG_FILE).read_text(encoding="utf-8"))
    del config["labels"]
    write_raw(crf_dir, config)

    with pytest.raises(ModelFormatError, match=r"'ner\.crf\.v1' config: labels: Field required"):
        load_ner_predictor(crf_dir)


@pytest.mark.parametrize("content", ["[1, 2]", "{not json", ""])
def test_a_config_that_is_not_a_json_object_is_a_clear_error(tmp_path: Path, content: str) -> None:
    (tmp_path / MODEL_CONFIG_FILE).write_text(content, encoding="utf-8")

    with pytest.raises(ModelFormatError, match=MODEL_CONFIG_FILE):
        read_backend_name(tmp_path)


def test_a_folder_without_config_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="is not a model folder"):
        load_ner_predictor(tmp_path)


def test_a_backend_mismatch_names_both(crf_dir: Path) -> None:
    with pytest.raises(ModelFormatError, match=r"'ner\.crf\.v1' model, not a 'ner\.other' one"):
        read_config(crf_dir, CrfConfig, "ner.other")


def test_an_unregistered_backend_is_a_clear_error(tmp_path: Path) -> None:
    name = "textcat.retired.v9"
    folder = write_raw(
        tmp_path, {"backend": name, "format_version": FORMAT_VERSION, "labels": ["A"]}
    )

    with pytest.raises(UnknownBackendError, match=rf"'{name}' is not registered"):
        load_classification_predictor(folder)
    with pytest.raises(UnknownBackendError, match=rf"'{name}' is not registered"):
        prepare_for_serving(folder)


def test_configs_are_frozen() -> None:
    config = ModelConfig(backend="x", labels=("A",))

    with pytest.raises(ValueError, match="frozen"):
        config.backend = "y"  # type: ignore[misc]
