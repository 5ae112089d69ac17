"""Versioned backend names, the backends behind them, and Azure's ``trainingConfigVersion`` map.

A backend name never changes meaning: a changed behaviour is registered under a new version
(``textcat.minilm.v2``) so that stored models keep loading with the code that trained them; the
training config versions name the newest. A model folder's ``config.json`` is read through
:mod:`lexicraft.ml.artifacts` (:class:`~lexicraft.ml.artifacts.ModelFormatError` for a folder
this code cannot read).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from lexicraft.ml import artifacts, checksums, serving
from lexicraft.ml.base import (
    ClassificationBackend,
    ClassificationPredictor,
    ConversationBackend,
    ConversationPredictor,
    NerBackend,
    NerPredictor,
    PreparesServing,
)

Backend = TypeVar("Backend", NerBackend, ClassificationBackend, ConversationBackend)

#: The file every model directory holds; its ``"backend"`` key names the backend to load it with.
MODEL_CONFIG_FILE = artifacts.MODEL_CONFIG_FILE

#: Azure project kinds, as spelled in the authoring API's ``projectKind``.
CUSTOM_ENTITY_RECOGNITION = "CustomEntityRecognition"
CUSTOM_SINGLE_LABEL_CLASSIFICATION = "CustomSingleLabelClassification"
CUSTOM_MULTI_LABEL_CLASSIFICATION = "CustomMultiLabelClassification"
#: Conversational language understanding (CLU): an intent per utterance plus entities.
CONVERSATION = "Conversation"
PROJECT_KINDS = (
    CUSTOM_ENTITY_RECOGNITION,
    CUSTOM_SINGLE_LABEL_CLASSIFICATION,
    CUSTOM_MULTI_LABEL_CLASSIFICATION,
    CONVERSATION,
)

#: The value of ``trainingConfigVersion`` that means "the newest version".
LATEST = "latest"


class UnknownBackendError(KeyError):
    """No backend is registered under the requested name."""

    def __init__(self, kind: str, name: str, known: Mapping[str, object]) -> None:
        self.message = f"{kind} backend {name!r} is not registered; known: {sorted(known)}"
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError's str() is the repr of its argument; show the plain message instead.
        return self.message


class UnknownTrainingConfigVersionError(ValueError):
    """The requested ``trainingConfigVersion`` does not exist."""


class UnknownProjectKindError(ValueError):
    """The project kind is not one this service trains."""


@dataclass(frozen=True, slots=True)
class TrainingConfigVersion:
    """One Azure ``trainingConfigVersion``: which backend trains each project kind."""

    name: str
    model_expiration_date: datetime.date
    #: Project kind (``PROJECT_KINDS``) → registered backend name.
    backends: Mapping[str, str]
    #: Project kind → the backend for projects not in English or in several languages (see
    #: :func:`wants_multilingual`), where it differs from ``backends``'.
    multilingual_backends: Mapping[str, str]
    #: What the version trains, in a sentence for people choosing one (the Studio shows it).
    description: str = ""


#: Self-hosted models do not expire; Azure clients still expect a date, so give one far
#: enough away that no client treats a Lexicraft model as expired.
_NO_EXPIRY = datetime.date(2099, 12, 31)

#: The version used when a training request names none, and what ``"latest"`` means: the
#: accurate configuration.
DEFAULT_TRAINING_CONFIG_VERSION = "2022-05-01"
#: The configuration that trains in seconds and serves fastest.
FAST_TRAINING_CONFIG_VERSION = "2022-05-01-fast"

#: Every training config version. Add new versions at the end.
_TRAINING_CONFIG_VERSIONS: tuple[TrainingConfigVersion, ...] = (
    TrainingConfigVersion(
        name=DEFAULT_TRAINING_CONFIG_VERSION,
        model_expiration_date=_NO_EXPIRY,
        backends=MappingProxyType(
            {
                CUSTOM_ENTITY_RECOGNITION: "ner.minilm.v2",
                CUSTOM_SINGLE_LABEL_CLASSIFICATION: "textcat.minilm.v2",
                CUSTOM_MULTI_LABEL_CLASSIFICATION: "textcat.minilm-multi.v2",
                CONVERSATION: "clu.minilm.v1",
            }
        ),
        # MiniLM is English and uncased; multilingual-e5-small is cased and knows ~100
        # languages, so a model trained on one language finds entities and classes in the
        # others. CLU stays on MiniLM: the same recipe on e5 (a prototype, not kept) scored
        # 92.6 intent accuracy and 85.1 slot F1 against MiniLM's 97.6 and 95.1 on atis_clu
        # (bench/clu.py, one run, 2026-12-07), whose utterances are lower-case.
        multilingual_backends=MappingProxyType(
            {
                CUSTOM_ENTITY_RECOGNITION: "ner.e5.v1",
                CUSTOM_SINGLE_LABEL_CLASSIFICATION: "textcat.e5.v1",
                CUSTOM_MULTI_LABEL_CLASSIFICATION: "textcat.e5-multi.v1",
            }
        ),
        description=(
            "Fine-tunes a transformer encoder on the labeled data (MiniLM for English; for "
            "entities and classes in other or several languages, the multilingual e5-small; "
            "blended with a CRF for entities, or TF-IDF for classes, where held-out documents "
            "say it helps): the most accurate models; training takes minutes on a CPU (far "
            "less on a GPU)."
        ),
    ),
    TrainingConfigVersion(
        name=FAST_TRAINING_CONFIG_VERSION,
        model_expiration_date=_NO_EXPIRY,
        backends=MappingProxyType(
            {
                CUSTOM_ENTITY_RECOGNITION: "ner.crf.v1",
                CUSTOM_SINGLE_LABEL_CLASSIFICATION: "textcat.linear.v1",
                CUSTOM_MULTI_LABEL_CLASSIFICATION: "textcat.linear-multi.v1",
                CONVERSATION: "clu.linear-crf.v1",
            }
        ),
        # A CRF over word features and TF-IDF know no language.
        multilingual_backends=MappingProxyType({}),
        description=(
            "Classic models (a CRF over word features for entities, TF-IDF logistic regression "
            "for classes and intents): trains in seconds and serves fastest, less accurate on "
            "text unlike the training data."
        ),
    ),
)


# The backends' modules import scikit-learn, tokenizers and python-crfsuite (a second or two):
# the registry imports them on first use, so a process that never trains or loads a model (a
# CLI command importing a project, a server answering authoring calls) does not pay for them.
# PyTorch and transformers (seconds more, some 400 MB) only come with training, writing
# serving graphs, or serving a folder no graph serves (:mod:`lexicraft.ml.networks`).


@functools.cache
def ner_backends() -> Mapping[str, NerBackend]:
    """Every registered NER backend by name (read-only)."""
    from lexicraft.ml.ner.crf import CrfNerBackend
    from lexicraft.ml.ner.transformer import (
        E5NerBackend,
        TransformerNerBackend,
        TransformerNerBackendV2,
    )

    # ner.minilm.v1: the earlier default; no config version trains it, its models load.
    return _by_name(
        (CrfNerBackend(), TransformerNerBackend(), TransformerNerBackendV2(), E5NerBackend())
    )


@functools.cache
def classification_backends() -> Mapping[str, ClassificationBackend]:
    """Every registered classification backend by name (read-only)."""
    from lexicraft.ml.classification.linear import (
        HybridClassificationBackend,
        HybridMultiLabelClassificationBackend,
        LinearClassificationBackend,
        LinearMultiLabelClassificationBackend,
    )
    from lexicraft.ml.classification.transformer import (
        E5ClassificationBackend,
        E5MultiLabelClassificationBackend,
        TransformerClassificationBackend,
        TransformerClassificationBackendV1,
        TransformerMultiLabelClassificationBackend,
        TransformerMultiLabelClassificationBackendV1,
    )

    return _by_name(
        (
            LinearClassificationBackend(),
            LinearMultiLabelClassificationBackend(),
            # Earlier defaults: no config version trains them; their deployed models load.
            HybridClassificationBackend(),
            HybridMultiLabelClassificationBackend(),
            TransformerClassificationBackendV1(),
            TransformerMultiLabelClassificationBackendV1(),
            TransformerClassificationBackend(),
            TransformerMultiLabelClassificationBackend(),
            E5ClassificationBackend(),
            E5MultiLabelClassificationBackend(),
        )
    )


@functools.cache
def conversation_backends() -> Mapping[str, ConversationBackend]:
    """Every registered conversation (CLU) backend by name (read-only)."""
    from lexicraft.ml.conversation.joint import JointConversationBackend
    from lexicraft.ml.conversation.linear_crf import LinearCrfConversationBackend

    return _by_name((JointConversationBackend(), LinearCrfConversationBackend()))


def import_backends() -> None:
    """Import every backend now (not PyTorch: see above): a long-running server or worker calls
    it in the background at start, so that its first job does not wait for the imports."""
    ner_backends()
    classification_backends()
    conversation_backends()


def _by_name(backends: tuple[Backend, ...]) -> Mapping[str, Backend]:
    return MappingProxyType({backend.name: backend for backend in backends})


def get_ner_backend(name: str) -> NerBackend:
    """The NER backend registered as ``name``."""
    known = ner_backends()
    try:
        return known[name]
    except KeyError:
        raise UnknownBackendError("NER", name, known) from None


def get_classification_backend(name: str) -> ClassificationBackend:
    """The classification backend registered as ``name``."""
    known = classification_backends()
    try:
        return known[name]
    except KeyError:
        raise UnknownBackendError("classification", name, known) from None


def get_conversation_backend(name: str) -> ConversationBackend:
    """The conversation (CLU) backend registered as ``name``."""
    known = conversation_backends()
    try:
        return known[name]
    except KeyError:
        raise UnknownBackendError("conversation", name, known) from None


def read_backend_name(model_dir: Path) -> str:
    """The backend name recorded in ``model_dir``'s ``config.json``.

    Raises :class:`~lexicraft.ml.artifacts.ModelFormatError` (a ``ValueError``) for a folder
    without a readable config or with an unsupported ``format_version``.
    """
    return artifacts.read_backend_name(model_dir)


def load_ner_predictor(model_dir: Path) -> NerPredictor:
    """Load the NER model in ``model_dir`` with the backend that trained it."""
    return get_ner_backend(read_backend_name(model_dir)).load(model_dir)


def load_classification_predictor(model_dir: Path) -> ClassificationPredictor:
    """Load the classification model in ``model_dir`` with the backend that trained it."""
    return get_classification_backend(read_backend_name(model_dir)).load(model_dir)


def load_conversation_predictor(model_dir: Path) -> ConversationPredictor:
    """Load the conversation model in ``model_dir`` with the backend that trained it."""
    return get_conversation_backend(read_backend_name(model_dir)).load(model_dir)


def prepare_for_serving(model_dir: Path) -> bool:
    """Let the backend of ``model_dir`` write what serves it faster, and add those files to
    the folder's checksums; True when files were written or checksums added.

    Run when a model is deployed. Backends without such files (CRF, TF-IDF) write nothing.
    The checksums are recorded even when the files were there already: a deploy killed
    between writing them and recording them is completed by the next one.
    """
    backend = _serving_backend(model_dir)
    wrote = backend is not None and backend.prepare_serving(model_dir)
    recorded = checksums.record_additions(model_dir)
    return wrote or recorded


def _serving_backend(model_dir: Path) -> PreparesServing | None:
    """The backend of ``model_dir`` if it writes serving files (ONNX graphs), else None."""
    name = read_backend_name(model_dir)
    known: dict[str, object] = {
        **ner_backends(),
        **classification_backends(),
        **conversation_backends(),
    }
    backend = known.get(name)
    if backend is None:
        raise UnknownBackendError("model", name, known)
    return backend if isinstance(backend, PreparesServing) else None


def has_int8_graph(model_dir: Path) -> bool:
    """Whether ``model_dir`` serves through ONNX and its int8 graph is written."""
    return (
        _serving_backend(model_dir) is not None and (model_dir / serving.SERVING_INT8_FILE).exists()
    )


def load_with_precision(
    model_dir: Path, precision: serving.Precision
) -> NerPredictor | ClassificationPredictor | ConversationPredictor:
    """The model in ``model_dir`` served from its ``precision`` ONNX graph (the deploy's
    int8 check compares the two)."""
    backend = _serving_backend(model_dir)
    if backend is None:
        raise ValueError(f"{model_dir} holds a model that is not served through ONNX")
    predictor: NerPredictor | ClassificationPredictor | ConversationPredictor = backend.load(
        model_dir, precision
    )
    return predictor


def record_serving_choice(model_dir: Path, choice: serving.PrecisionChoice) -> bool:
    """Write the int8 check's verdict into ``model_dir`` (once) and add it to the folder's
    checksums; True when something was written or recorded."""
    wrote = serving.write_choice(model_dir, choice)
    return checksums.record_additions(model_dir) or wrote


def training_config_versions() -> tuple[TrainingConfigVersion, ...]:
    """Every training config version, oldest first."""
    return _TRAINING_CONFIG_VERSIONS


def get_training_config_version(version: str) -> TrainingConfigVersion:
    """The training config version named ``version`` (``"latest"``: the default one)."""
    versions = _TRAINING_CONFIG_VERSIONS
    if version == LATEST:
        version = DEFAULT_TRAINING_CONFIG_VERSION
    for entry in versions:
        if entry.name == version:
            return entry
    known = [entry.name for entry in versions]
    raise UnknownTrainingConfigVersionError(
        f"trainingConfigVersion {version!r} is not supported; use one of {known} or {LATEST!r}"
    )


def wants_multilingual(language: str, multilingual: bool) -> bool:
    """Whether a project in ``language`` (its code, e.g. ``en-us``, ``de``) trains with a
    multilingual encoder: when it is not in English or is ``multilingual`` (Azure's
    multilingual projects are trained in one language and called in others)."""
    return multilingual or language.lower().split("-")[0] != "en"


def resolve_backend_name(version: str, project_kind: str, *, multilingual: bool = False) -> str:
    """The backend that training config ``version`` uses for ``project_kind`` projects
    (``multilingual``: for a project :func:`wants_multilingual` says so of)."""
    entry = get_training_config_version(version)
    if multilingual and project_kind in entry.multilingual_backends:
        return entry.multilingual_backends[project_kind]
    try:
        return entry.backends[project_kind]
    except KeyError:
        raise UnknownProjectKindError(
            f"project kind {project_kind!r} is not supported by trainingConfigVersion "
            f"{entry.name!r}; use one of {sorted(entry.backends)}"
        ) from None
