"""Backend names, model loading by name, and training config versions."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from lexicraft.ml.base import NerExample, Span
from lexicraft.ml.classification.transformer import (
    TransformerClassificationBackend,
    TransformerClassifierHyperparameters,
    TransformerMultiLabelClassificationBackend,
)
from lexicraft.ml.registry import (
    DEFAULT_TRAINING_CONFIG_VERSION,
    FAST_TRAINING_CONFIG_VERSION,
    PROJECT_KINDS,
    UnknownBackendError,
    UnknownProjectKindError,
    UnknownTrainingConfigVersionError,
    classification_backends,
    conversation_backends,
    get_classification_backend,
    get_conversation_backend,
    get_ner_backend,
    get_training_config_version,
    load_classification_predictor,
    load_ner_predictor,
    ner_backends,
    resolve_backend_name,
    training_config_versions,
    wants_multilingual,
)


def test_backends_are_registered_under_their_own_names() -> None:
    assert {"ner.crf.v1"} <= set(ner_backends())
    assert {"textcat.linear.v1", "textcat.linear-multi.v1"} <= set(classification_backends())
    for name, backend in ner_backends().items():
        assert backend.name == name
        assert get_ner_backend(name) is backend
    for name, classifier in classification_backends().items():
        assert classifier.name == name
        assert get_classification_backend(name) is classifier


def test_multi_label_flag_matches_the_backend_name() -> None:
    assert get_classification_backend("textcat.linear.v1").multi_label is False
    assert get_classification_backend("textcat.linear-multi.v1").multi_label is True


def test_unknown_backend_is_a_key_error_that_lists_known_names() -> None:
    with pytest.raises(UnknownBackendError) as raised:
        get_ner_backend("ner.crf.v99")

    assert isinstance(raised.value, KeyError)
    assert "'ner.crf.v99'" in str(raised.value)
    assert "ner.crf.v1" in str(raised.value)
    with pytest.raises(KeyError, match=r"textcat\.linear\.v1"):
        get_classification_backend("ner.crf.v1")


def test_registry_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        ner_backends()["x"] = get_ner_backend("ner.crf.v1")  # type: ignore[index]


def test_load_dispatches_on_the_backend_in_config(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    get_ner_backend("ner.crf.v1").train(
        [NerExample("Alice is here", (Span(0, 5, "PER"),))], ["PER"], model_dir
    )

    predictor = load_ner_predictor(model_dir)

    assert predictor.labels == ("PER",)


def test_load_rejects_an_unknown_backend_in_config(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"backend": "ner.magic.v1", "format_version": 1})
    )

    with pytest.raises(UnknownBackendError, match=r"ner\.magic\.v1"):
        load_ner_predictor(tmp_path)
    with pytest.raises(UnknownBackendError, match=r"ner\.magic\.v1"):
        load_classification_predictor(tmp_path)


def test_load_rejects_a_config_without_backend(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"labels": [], "format_version": 1}))

    with pytest.raises(ValueError, match="backend"):
        load_ner_predictor(tmp_path)


def test_training_config_version_2022_05_01() -> None:
    version = get_training_config_version("2022-05-01")

    # Self-hosted models never expire: no client may see an expiration date in the past.
    assert version.model_expiration_date > datetime.date.today() + datetime.timedelta(days=3650)
    assert dict(version.backends) == {
        "CustomEntityRecognition": "ner.minilm.v2",
        "CustomSingleLabelClassification": "textcat.minilm.v2",
        "CustomMultiLabelClassification": "textcat.minilm-multi.v2",
        "Conversation": "clu.minilm.v1",
    }
    assert DEFAULT_TRAINING_CONFIG_VERSION == "2022-05-01"


def test_every_version_maps_every_kind_to_a_registered_backend() -> None:
    registered = set(ner_backends()) | set(classification_backends())
    registered |= set(conversation_backends())

    for version in training_config_versions():
        assert set(version.backends) == set(PROJECT_KINDS)
        assert set(version.backends.values()) <= registered
        assert set(version.multilingual_backends) <= set(PROJECT_KINDS)
        assert set(version.multilingual_backends.values()) <= registered


@pytest.mark.parametrize(
    ("language", "multilingual", "wanted"),
    [
        ("en-us", False, False),
        ("en", False, False),
        ("EN-GB", False, False),
        ("en-us", True, True),  # Azure: trained in one language, called in others
        ("de", False, True),
        ("zh-hans", False, True),
        ("eng", False, True),  # not English's code
    ],
)
def test_projects_not_in_english_or_in_several_want_a_multilingual_encoder(
    language: str, multilingual: bool, wanted: bool
) -> None:
    assert wants_multilingual(language, multilingual) is wanted


@pytest.mark.parametrize(
    ("kind", "english", "multilingual"),
    [
        ("CustomEntityRecognition", "ner.minilm.v2", "ner.e5.v1"),
        ("CustomSingleLabelClassification", "textcat.minilm.v2", "textcat.e5.v1"),
        ("CustomMultiLabelClassification", "textcat.minilm-multi.v2", "textcat.e5-multi.v1"),
        # e5 was well behind MiniLM on atis_clu (the registry's comment).
        ("Conversation", "clu.minilm.v1", "clu.minilm.v1"),
    ],
)
def test_the_default_trains_other_languages_on_the_multilingual_encoder(
    kind: str, english: str, multilingual: str
) -> None:
    assert resolve_backend_name("latest", kind, multilingual=False) == english
    assert resolve_backend_name("latest", kind, multilingual=True) == multilingual
    # The fast config's CRF and TF-IDF models know no language.
    fast = FAST_TRAINING_CONFIG_VERSION
    assert resolve_backend_name(fast, kind, multilingual=True) == resolve_backend_name(fast, kind)


def test_latest_is_the_default_accurate_version() -> None:
    assert get_training_config_version("latest").name == DEFAULT_TRAINING_CONFIG_VERSION
    for kind in PROJECT_KINDS:
        assert resolve_backend_name("latest", kind) == resolve_backend_name("2022-05-01", kind)


def test_default_is_accurate_and_fast_is_linear() -> None:
    single = "CustomSingleLabelClassification"
    assert resolve_backend_name(DEFAULT_TRAINING_CONFIG_VERSION, single) == "textcat.minilm.v2"
    assert resolve_backend_name(FAST_TRAINING_CONFIG_VERSION, single) == "textcat.linear.v1"


def test_default_training_lengths() -> None:
    # The data decides how long the defaults train, never the clock; multi-label reads a third
    # more (goemotions needs it to make one pass). A caller's own settings win, a wall-clock
    # cap included.
    versions = {kind: resolve_backend_name("latest", kind) for kind in PROJECT_KINDS}
    single = get_classification_backend(versions["CustomSingleLabelClassification"])
    multi = get_classification_backend(versions["CustomMultiLabelClassification"])
    assert isinstance(single, TransformerClassificationBackend)
    assert isinstance(multi, TransformerMultiLabelClassificationBackend)
    assert single.hyperparameters.time_budget_s is None
    assert multi.hyperparameters.time_budget_s is None
    assert single.hyperparameters.max_train_pieces == 600_000
    assert multi.hyperparameters.max_train_pieces == 800_000
    own = TransformerClassifierHyperparameters(time_budget_s=60.0)
    assert TransformerMultiLabelClassificationBackend(own).hyperparameters.time_budget_s == 60.0


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(UnknownTrainingConfigVersionError, match="2022-05-01") as raised:
        resolve_backend_name("2019-01-01", "CustomEntityRecognition")

    assert isinstance(raised.value, ValueError)
    assert "'2019-01-01'" in str(raised.value)


def test_unknown_project_kind() -> None:
    with pytest.raises(UnknownProjectKindError, match="CustomAbstractiveSummarization"):
        resolve_backend_name("latest", "CustomAbstractiveSummarization")


def test_conversation_backends() -> None:
    assert resolve_backend_name(FAST_TRAINING_CONFIG_VERSION, "Conversation") == "clu.linear-crf.v1"
    assert resolve_backend_name(DEFAULT_TRAINING_CONFIG_VERSION, "Conversation") == "clu.minilm.v1"
    for name, backend in conversation_backends().items():
        assert backend.name == name
        assert get_conversation_backend(name) is backend
    with pytest.raises(UnknownBackendError, match=r"clu\.linear-crf\.v1"):
        get_conversation_backend("ner.crf.v1")


def test_earlier_defaults_stay_registered_for_their_folders() -> None:
    # Folders trained before the blend (single-label), before the softmax head (multi-label)
    # and by the hybrid defaults before them name these backends; no training config version
    # trains them any more, but their deployed models must keep loading.
    earlier = {
        "textcat.minilm.v1", "textcat.minilm-multi.v1", "textcat.hybrid.v1",
        "textcat.hybrid-multi.v1",
    }  # fmt: skip
    assert earlier <= set(classification_backends())
    trained = {name for version in training_config_versions() for name in version.backends.values()}
    assert not earlier & trained
    assert get_classification_backend("textcat.minilm-multi.v1").multi_label is True
