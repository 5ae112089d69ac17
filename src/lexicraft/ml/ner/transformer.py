"""``ner.minilm.v1`` / ``v2``: the packaged all-MiniLM-L6-v2 encoder fine-tuned as a BIO tagger;
``ner.e5.v1``: ``v2``'s recipe on multilingual-e5-small, for projects in other languages than
English or in several (a cased encoder of ~100 languages: a model trained on one language finds
entities in the others).

``v2`` (the default) holds a tenth of a large enough training set out, trains a CRF
(``ner.crf.v1``) beside the encoder on the rest, mixes the two taggers' word probabilities with
the CRF's share chosen on the held-out documents (0: the encoder alone, 1: the CRF alone), and
calibrates entity confidences there (:mod:`lexicraft.ml.ner.blend`). The folder then also holds
the CRF in ``crf/`` (when its share is above 0), and ``config.json`` records the choice.

Text is split into words by :func:`lexicraft.ml.tokenize.tokenize` (no whitespace assumption),
each word into word pieces; a word's tag is predicted from its first piece. The encoder also sees
each word's casing class (:class:`lexicraft.ml.finetune.CasedEncoder`), since MiniLM is
uncased (e5 is cased; the casing embedding starts at zero and learns what it adds).

Decoding is a Viterbi search over the tag log-probabilities that only allows valid BIO sequences
(no ``I-X`` after ``O`` or after another category), which removes the broken, low-precision
entities that per-token argmax produces. An entity's confidence is the lowest probability its
words give their chosen tags.

Documents longer than a window are split into overlapping windows of whole words; every word
takes its prediction from the window where it has the most context on both sides, so nothing is
truncated. The model directory holds ``config.json``, ``encoder_config.json``,
``tokenizer.json`` and ``model.safetensors`` (no pickle). A folder made by :func:`export_onnx`
holds ``model.onnx`` instead of the safetensors and encoder config, and runs in ONNX Runtime.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from lexicraft.ml import networks
from lexicraft.ml.artifacts import ModelConfig, read_config, write_config
from lexicraft.ml.base import NerExample, PredictedSpan, Progress, TrainsWith, no_progress
from lexicraft.ml.e5_build import E5
from lexicraft.ml.encoders import MINILM
from lexicraft.ml.ner.blend import Calibration, HeldOut, HeldOutChoice, choose, mix
from lexicraft.ml.ner.crf import CrfNerBackend, CrfNerPredictor
from lexicraft.ml.ner.validation import check_examples
from lexicraft.ml.networks import Network, OnnxNetwork
from lexicraft.ml.serving import SERVING_FILE, Precision
from lexicraft.ml.training_plan import check_schedule, held_out_split
from lexicraft.ml.wordpieces import (
    TOKENIZER_FILE,
    Document,
    FloatArray,
    Window,
    WordPieces,
    load_tokenizer,
    log_softmax,
    padded,
    prediction_batches,
)

if TYPE_CHECKING:
    from lexicraft.ml.ner.tagger_network import Tagger

BACKEND_NAME = "ner.minilm.v1"
V2_BACKEND_NAME = "ner.minilm.v2"
E5_BACKEND_NAME = "ner.e5.v1"
#: The blended CRF's folder inside a ``v2`` model folder.
CRF_DIR = "crf"
#: The share of a ``v2`` training's progress the CRF takes (it trains in a tenth of the time).
_CRF_PROGRESS = 0.1
ONNX_FILE = "model.onnx"
#: ``config.json``'s ``"runtime"`` when the folder holds the network as ONNX (see export_onnx).
RUNTIME_ONNX = "onnx"
#: ``ner.e5.v1``'s cap on word pieces read in training (see ``max_train_pieces``).
E5_TRAIN_PIECES = 320_000


@dataclass(frozen=True, slots=True)
class TransformerNerHyperparameters:
    """Training settings for :class:`TransformerNerBackend`."""

    epochs: int = 4
    #: Encoder learning rate; 2e-4 beat 5e-5 clearly for this small model (ML-NOTES).
    learning_rate: float = 1e-4
    #: The freshly initialised tag layer learns faster than the pretrained encoder.
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 32
    #: Small training sets still get this many updates (more epochs), enough to learn them.
    min_steps: int = 150
    #: Large training sets stop after reading this many word pieces (padding included; see
    #: :func:`lexicraft.ml.training_plan.plan_steps`), whatever the clock says: a step's time
    #: is about proportional to its pieces, so the cap bounds training time on a given machine.
    #: conll2003 (644 pieces a step) keeps its four epochs under it (1,580 steps beside the
    #: held-out tenth; 640,000, the former cap, cut it to 993 steps, 0.4 F1 points lower:
    #: bench/results/ner-v2.json); smaller sets never reach it. None: no cap.
    max_train_pieces: int | None = 1_100_000
    #: Word pieces per window, special tokens included.
    train_window: int = 128
    predict_window: int = 256
    #: Word pieces two neighbouring prediction windows share.
    predict_overlap: int = 64
    #: A word's pieces beyond this many are dropped (its tag comes from the first; long URLs
    #: and hashes would otherwise eat whole windows).
    max_pieces_per_word: int = 16
    #: An explicit wall-clock cap: training ends (with a fully decayed learning rate) within
    #: this many seconds, fewer steps than planned on a slow or busy machine, and the training
    #: job says so in a warning. None (the default): the data alone decides the length, so the
    #: same project, config and seed give the same model.
    time_budget_s: float | None = None
    #: Seeds weight initialisation, dropout, batch order and the held-out split.
    seed: int = 0
    #: ``v2``: train a CRF beside the encoder and mix their word probabilities, the CRF's share
    #: chosen on held-out documents (see :mod:`lexicraft.ml.ner.blend`).
    blend_crf: bool = False
    #: ``v2``: calibrate entity confidences on the held-out documents (Platt scaling).
    calibrate: bool = False
    #: Share of the training documents held out (when there are at least
    #: ``min_examples_for_validation``) to choose the blend and calibrate; fewer documents train
    #: the encoder alone, uncalibrated.
    validation_fraction: float = 0.1
    min_examples_for_validation: int = 200

    def __post_init__(self) -> None:
        check_schedule(self)
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError("validation_fraction must be in (0, 1)")
        if not 8 <= self.train_window <= 512 or not 8 <= self.predict_window <= 512:
            raise ValueError("windows must hold 8 … 512 word pieces")
        if not 0 <= self.predict_overlap < self.predict_window // 2:
            raise ValueError("predict_overlap must be below half the prediction window")


def bio_tag_names(labels: Sequence[str]) -> list[str]:
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


class TransformerNerConfig(ModelConfig):
    """A ``ner.minilm.v1`` folder's ``config.json``."""

    tags: tuple[str, ...]
    hyperparameters: TransformerNerHyperparameters
    trained_steps: int
    #: The steps the data asked for (fewer were trained when a time budget cut training
    #: short); None in folders written before it was recorded.
    planned_steps: int | None = None
    #: ``"onnx"`` in a folder :func:`export_onnx` wrote (``model.onnx``, no safetensors).
    runtime: Literal["onnx"] | None = None
    #: ``v2``: what the held-out documents chose (None: too few documents to hold any out).
    held_out: HeldOutChoice | None = None


class TransformerNerBackend(TrainsWith[TransformerNerHyperparameters]):
    """Trains and loads ``ner.minilm.v1`` models: the encoder alone."""

    name = BACKEND_NAME
    #: The pretrained encoder it fine-tunes (:data:`lexicraft.ml.finetune.ENCODERS`).
    encoder: ClassVar[str] = MINILM
    #: Whether training may hold documents out to blend a CRF and calibrate (``v2``).
    holds_out: ClassVar[bool] = False
    #: Whether the int8 serving graph quantizes the word-piece embeddings too (see
    #: :func:`lexicraft.ml.onnx_serving.quantize`): worth it for a large vocabulary only.
    quantizes_embeddings: ClassVar[bool] = False
    default_hyperparameters: ClassVar[TransformerNerHyperparameters] = (
        TransformerNerHyperparameters()
    )

    def __init__(self, hyperparameters: TransformerNerHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or self.default_hyperparameters)

    def train(
        self,
        examples: Sequence[NerExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
        *,
        hyperparameters: TransformerNerHyperparameters | None = None,
    ) -> None:
        """Fine-tune on ``examples``; write the model folder to ``output_dir``.

        ``hyperparameters``: the settings to train with (None: :attr:`hyperparameters`); they
        are stored in ``config.json``.
        """
        settings = self.settings(hyperparameters)
        if (settings.blend_crf or settings.calibrate) and not self.holds_out:
            raise ValueError(
                f"{self.name} trains the encoder alone; set blend_crf=False and "
                f"calibrate=False or train {V2_BACKEND_NAME}"
            )
        label_list = tuple(dict.fromkeys(labels))
        check_examples(examples, label_list)
        # PyTorch only now: a process that merely serves models never imports it.
        from lexicraft.ml.finetune import (
            TorchNetwork,
            save_encoder_files,
            save_weights,
            seed_everything,
        )
        from lexicraft.ml.ner.tagger_network import fine_tune_tagger

        progress(0.0)
        seed_everything(settings.seed)
        started = time.monotonic()
        training, held_out = self._split(examples, settings)
        crf: CrfNerPredictor | None = None
        first = 0.0
        if held_out and settings.blend_crf:
            CrfNerBackend().train(
                training,
                label_list,
                output_dir / CRF_DIR,
                lambda fraction: progress(_CRF_PROGRESS * fraction),
            )
            crf = CrfNerBackend().load(output_dir / CRF_DIR)
            first = _CRF_PROGRESS
        # Under an explicit budget the CRF's seconds come out of the encoder's, so the whole
        # training keeps to ``time_budget_s``.
        budget = settings.time_budget_s
        if budget is not None:
            budget = max(budget / 2, budget - (time.monotonic() - started))
        model, tokenizer, config_dict, length = fine_tune_tagger(
            self.encoder,
            training,
            label_list,
            replace(settings, time_budget_s=budget),
            lambda fraction: progress(min(0.99, first + (0.97 - first) * fraction)),
        )
        choice: HeldOutChoice | None = None
        if held_out:
            candidate = TransformerNerPredictor(
                TorchNetwork(model.eval()), tokenizer, label_list, settings
            )
            choice = candidate.choose(held_out, crf, settings.calibrate)
        if choice is None or choice.crf_weight == 0.0:
            shutil.rmtree(output_dir / CRF_DIR, ignore_errors=True)
        save_encoder_files(output_dir, config_dict, self.encoder)
        save_weights(model, output_dir)
        write_config(
            output_dir,
            TransformerNerConfig(
                backend=self.name,
                labels=label_list,
                tags=tuple(bio_tag_names(label_list)),
                hyperparameters=settings,
                trained_steps=length.trained_steps,
                planned_steps=length.planned_steps,
                held_out=choice,
            ),
        )
        progress(1.0)

    def _split(
        self, examples: Sequence[NerExample], settings: TransformerNerHyperparameters
    ) -> tuple[list[NerExample], list[NerExample]]:
        """``(training, held out)``; nothing held out when nothing is chosen or the set is small."""
        tunes = settings.blend_crf or settings.calibrate
        if not tunes or len(examples) < settings.min_examples_for_validation:
            return list(examples), []
        return held_out_split(examples, settings.validation_fraction, settings.seed)

    def load(self, model_dir: Path, precision: Precision | None = None) -> TransformerNerPredictor:
        """Load a model that :meth:`train` wrote (``precision``: from that serving graph)."""
        config = read_config(model_dir, TransformerNerConfig, self.name)
        settings = config.hyperparameters
        labels = config.labels
        choice = config.held_out
        crf = None
        if choice is not None and choice.crf_weight > 0.0:
            crf = CrfNerBackend().load(model_dir / CRF_DIR)
        network: Network
        if config.runtime == RUNTIME_ONNX:
            network = OnnxNetwork(model_dir / ONNX_FILE)
        else:
            network = networks.serving_network(
                model_dir, lambda: _load_tagger(model_dir, len(labels)), precision
            )
        return TransformerNerPredictor(
            network, load_tokenizer(model_dir), labels, settings, crf, choice
        )

    def prepare_serving(self, model_dir: Path) -> bool:
        """Write the network as ONNX for serving (see :mod:`lexicraft.ml.onnx_serving`)."""
        if (model_dir / ONNX_FILE).exists():
            return False  # an exported folder already runs in ONNX Runtime
        from lexicraft.ml import onnx_serving

        labels = read_config(model_dir, TransformerNerConfig, self.name).labels
        return onnx_serving.prepare(
            model_dir,
            lambda: _load_tagger(model_dir, len(labels)),
            quantize_embeddings=self.quantizes_embeddings,
        )


def _load_tagger(model_dir: Path, label_count: int) -> Tagger:
    from lexicraft.ml.ner.tagger_network import load_tagger

    return load_tagger(model_dir, label_count)


def export_onnx(model_dir: Path, output_dir: Path) -> None:
    """Write the model in ``model_dir`` to ``output_dir`` with its network as ONNX.

    The folder loads with :meth:`TransformerNerBackend.load` like the original and predicts
    the same entities, run by ONNX Runtime instead of PyTorch.
    """
    config = read_config(model_dir, TransformerNerConfig)
    if config.backend not in (BACKEND_NAME, V2_BACKEND_NAME, E5_BACKEND_NAME):
        raise ValueError(f"{model_dir} holds a {config.backend!r} model, not an encoder tagger")
    served = model_dir / SERVING_FILE
    if served.is_file():
        # A deployed folder holds this very network as ONNX already (the deploy job wrote it
        # from the same weights, with the same exporter): a copy takes a second, exporting
        # again up to a minute.
        output_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(served, output_dir / ONNX_FILE)
    else:
        from lexicraft.ml import onnx_serving

        onnx_serving.write_onnx(_load_tagger(model_dir, len(config.labels)), output_dir / ONNX_FILE)
    shutil.copyfile(model_dir / TOKENIZER_FILE, output_dir / TOKENIZER_FILE)
    if (model_dir / CRF_DIR).is_dir():
        shutil.copytree(model_dir / CRF_DIR, output_dir / CRF_DIR)
    write_config(output_dir, config.model_copy(update={"runtime": RUNTIME_ONNX}))


class TransformerNerPredictor:
    """A loaded ``ner.minilm.v1`` or ``v2`` model (``v2``: with its CRF, when its share is
    above 0, and its confidence calibration)."""

    def __init__(
        self,
        network: Network,
        tokenizer: Tokenizer,
        labels: tuple[str, ...],
        settings: TransformerNerHyperparameters,
        crf: CrfNerPredictor | None = None,
        choice: HeldOutChoice | None = None,
    ) -> None:
        self.labels = labels
        self._crf = crf
        self._crf_weight = 0.0 if choice is None or crf is None else choice.crf_weight
        self._calibration: Calibration | None = None if choice is None else choice.calibration
        self._tags = bio_tag_names(labels)
        self._network = network
        self._vocabulary = WordPieces(tokenizer, settings.max_pieces_per_word)
        self._settings = settings
        self._allowed = allowed_transitions(len(labels))
        # One forward pass at a time: torch already spreads one batch over every core.
        self._lock = threading.Lock()

    @property
    def runtime(self) -> str:
        """What runs the network: ``"pytorch"`` or ``"onnxruntime"``."""
        return self._network.runtime

    @property
    def network(self) -> Network:
        """The network it predicts with (for ONNX Runtime, ``network.path`` is its graph)."""
        return self._network

    def predict(self, texts: Sequence[str]) -> list[list[PredictedSpan]]:
        """Entities for each text, sorted by start, non-overlapping, inside the text."""
        if not texts:
            return []
        documents, emissions, has_piece = self._emissions(texts)
        if self._crf is not None:
            crf = self._crf.marginals(texts, [d.tokens for d in documents], self._tags)
            emissions = [
                mix(emission, marginals, self._crf_weight)
                for emission, marginals in zip(emissions, crf, strict=True)
            ]
        predicted = decode_all(documents, emissions, has_piece, self.labels, self._allowed)
        if self._calibration is None:
            return predicted
        return [self._calibration.apply(spans) for spans in predicted]

    def choose(
        self, examples: Sequence[NerExample], crf: CrfNerPredictor | None, calibrate: bool
    ) -> HeldOutChoice:
        """What the held-out ``examples`` choose: ``crf``'s share in a blend with this model
        (none without a CRF) and, with ``calibrate``, the calibration of confidences."""
        texts = [example.text for example in examples]
        documents, emissions, has_piece = self._emissions(texts)
        held_out = HeldOut(
            gold=[example.spans for example in examples],
            labels=self.labels,
            emissions=emissions,
            crf=(
                None
                if crf is None
                else crf.marginals(texts, [d.tokens for d in documents], self._tags)
            ),
        )
        return choose(
            held_out,
            lambda mixed: decode_all(documents, mixed, has_piece, self.labels, self._allowed),
            calibrate,
        )

    def _emissions(
        self, texts: Sequence[str]
    ) -> tuple[list[Document], list[FloatArray], list[npt.NDArray[np.bool_]]]:
        """Each text's words, their tag log-probabilities, and which words have word pieces."""
        settings = self._settings
        documents = self._vocabulary.documents(texts)
        windows = [
            window
            for number, document in enumerate(documents)
            for window in self._vocabulary.windows(
                number, document, settings.predict_window, settings.predict_overlap
            )
        ]
        tag_count = 1 + 2 * len(self.labels)
        emissions = [
            np.zeros((len(document.tokens), tag_count), np.float32) for document in documents
        ]
        best_margin = [np.full(len(document.tokens), -1) for document in documents]
        lengths = [len(window.ids) for window in windows]
        with self._lock:
            for batch in prediction_batches(lengths):
                chosen = [windows[index] for index in batch]
                rows = log_softmax(self._network.logits(*padded(chosen)))
                for window, row in zip(chosen, rows, strict=True):
                    keep_best(window, row, emissions[window.document], best_margin[window.document])
        has_piece = [margin >= 0 for margin in best_margin]
        return documents, emissions, has_piece


def decode_entities(
    document: Document,
    emission: FloatArray,
    has_piece: npt.NDArray[np.bool_],
    labels: Sequence[str],
    allowed: npt.NDArray[np.bool_],
) -> list[PredictedSpan]:
    """The entities of the best valid BIO path through ``emission`` (words by tag
    log-probabilities; ``allowed`` from :func:`allowed_transitions`)."""
    return decode_all([document], [emission], [has_piece], labels, allowed)[0]


def decode_all(
    documents: Sequence[Document],
    emissions: Sequence[FloatArray],
    has_pieces: Sequence[npt.NDArray[np.bool_]],
    labels: Sequence[str],
    allowed: npt.NDArray[np.bool_],
) -> list[list[PredictedSpan]]:
    """:func:`decode_entities` of every document, their Viterbi searches run as one batch."""
    scored = []
    for emission, has_piece in zip(emissions, has_pieces, strict=True):
        scores = emission.copy()
        # A word without word pieces (a character the vocabulary drops) gets no vote: it may
        # stay outside or continue an entity, but not start one.
        no_vote = ~has_piece
        scores[no_vote] = 0.0
        scores[np.ix_(no_vote, np.arange(1, scores.shape[1], 2))] = -np.inf
        scored.append(scores)
    paths = viterbi_batch(scored, allowed)
    return [
        _entities(document, emission, has_piece, path, labels)
        for document, emission, has_piece, path in zip(
            documents, emissions, has_pieces, paths, strict=True
        )
    ]


def _entities(
    document: Document,
    emission: FloatArray,
    has_piece: npt.NDArray[np.bool_],
    path: npt.NDArray[np.int64],
    labels: Sequence[str],
) -> list[PredictedSpan]:
    """The entities along ``path`` (a tag per word): one per B tag and the I tags after it."""
    spans: list[PredictedSpan] = []
    # Entities start at B tags (odd); only those words are visited in Python.
    for word in np.flatnonzero(path % 2 == 1).tolist():
        tag = int(path[word])
        end = word + 1
        while end < len(path) and path[end] == tag + 1:
            end += 1
        voted = np.flatnonzero(has_piece[word:end]) + word
        confidence = float(np.exp(emission[voted, path[voted]].min()))
        spans.append(
            PredictedSpan(
                start=document.tokens[word][0],
                end=document.tokens[end - 1][1],
                category=labels[(tag - 1) // 2],
                confidence=min(1.0, max(0.0, confidence)),
            )
        )
    return spans


def keep_best(
    window: Window, row: FloatArray, emission: FloatArray, best_margin: npt.NDArray[np.int_]
) -> None:
    """Copy ``window``'s word scores into ``emission`` where it gives a word more context."""
    positions = np.asarray(window.positions, dtype=np.int64)
    count = len(positions)
    offsets = np.arange(count)
    margins = np.minimum(offsets, count - 1 - offsets)
    words = window.first_word + offsets
    better = (positions >= 0) & (margins > best_margin[words])
    best_margin[words[better]] = margins[better]
    emission[words[better]] = row[positions[better]]


def allowed_transitions(label_count: int) -> npt.NDArray[np.bool_]:
    """``allowed[previous, next]`` for BIO tags ``O, B-1, I-1, B-2, I-2, …``; row -1 is start."""
    tag_count = 1 + 2 * label_count
    allowed = np.ones((tag_count + 1, tag_count), dtype=bool)
    for label in range(label_count):
        inside = 2 + 2 * label
        allowed[:, inside] = False
        allowed[1 + 2 * label, inside] = True
        allowed[inside, inside] = True
    return allowed


def viterbi(scores: FloatArray, allowed: npt.NDArray[np.bool_]) -> list[int]:
    """The best tag path under ``scores`` (words by tags) that only takes allowed transitions."""
    return [int(tag) for tag in viterbi_batch([scores], allowed)[0]]


def viterbi_batch(
    scores: Sequence[FloatArray], allowed: npt.NDArray[np.bool_]
) -> list[npt.NDArray[np.int64]]:
    """:func:`viterbi` of each of ``scores``, stepping through all of them at once.

    Each step does for every document what the search of one document alone does (the same
    sums, the same first-best choice among ties), and a document whose words are all read
    keeps its scores, so each path is the one a search of that document alone finds.
    """
    if not scores:
        return []
    tags = allowed.shape[1]
    lengths = np.array([len(document) for document in scores])
    longest = int(lengths.max(initial=0))
    padded_scores = np.zeros((len(scores), max(longest, 1), tags), dtype=np.float64)
    for row, document in enumerate(scores):
        padded_scores[row, : len(document)] = document
    penalty = np.where(allowed, 0.0, -np.inf)
    rows = np.arange(len(scores))
    best = padded_scores[:, 0] + penalty[-1]
    back = np.zeros((len(scores), max(longest, 1), tags), dtype=np.int64)
    for word in range(1, longest):
        candidates = best[:, :, None] + penalty[:-1][None]
        choice = np.argmax(candidates, axis=1)
        reached = np.take_along_axis(candidates, choice[:, None, :], axis=1)[:, 0]
        active = word < lengths
        back[active, word] = choice[active]
        best = np.where(active[:, None], reached + padded_scores[:, word], best)
    paths = np.zeros((len(scores), max(longest, 1)), dtype=np.int64)
    last = np.maximum(lengths - 1, 0)
    paths[rows, last] = np.argmax(best, axis=1)
    for word in range(longest - 1, 0, -1):
        active = word <= last
        following = paths[rows, word]
        paths[active, word - 1] = back[rows, word, following][active]
    return [paths[row, : lengths[row]] for row in rows]


class TransformerNerBackendV2(TransformerNerBackend):
    """``ner.minilm.v2``: the encoder with a CRF blended in and calibrated confidences, both
    chosen on held-out documents (see :mod:`lexicraft.ml.ner.blend`)."""

    name = V2_BACKEND_NAME
    holds_out = True
    default_hyperparameters = TransformerNerHyperparameters(blend_crf=True, calibrate=True)


class E5NerBackend(TransformerNerBackendV2):
    """``ner.e5.v1``: ``ner.minilm.v2``'s recipe (a CRF blended in, calibrated confidences) on
    multilingual-e5-small, cased and trained on ~100 languages. Twice MiniLM's layers make a
    step about twice as long, so it reads fewer word pieces to train in about the same time."""

    name = E5_BACKEND_NAME
    encoder = E5
    #: 250,002 word pieces: int8 embeddings shrink its int8 graph from 408 MB to 119.
    quantizes_embeddings = True
    default_hyperparameters = TransformerNerHyperparameters(
        blend_crf=True, calibrate=True, max_train_pieces=E5_TRAIN_PIECES
    )
