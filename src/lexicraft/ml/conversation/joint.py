"""``clu.minilm.v1``: one MiniLM encoder with an intent head and a BIO slot head, trained together.

The packaged all-MiniLM-L6-v2 (with the casing embedding of
:class:`lexicraft.ml.finetune.CasedEncoder`) reads the utterance; a linear layer over its
mean-pooled output scores the intents and a linear layer over each word's first piece scores
its BIO tag. Both are trained at once on the sum of their cross-entropies (JointBERT style), so
the encoder learns what both tasks need. Words come from :func:`lexicraft.ml.tokenize.tokenize`
and their tags decode as in ``ner.minilm.v1`` (Viterbi over valid BIO paths). An utterance
longer than a window is read in overlapping windows: every word takes its tag from the window
where it has the most context, and the intent logits are the windows' average, weighted by
their length.

**Calibrated, out-of-scope-aware intent scores.** A softmax always sums to one, so text unlike
any intent still gets a confident "best" intent (CLU's known complaint). Two things, both fitted
on a stratified held-out slice of the training utterances that the network does not train on:

- a temperature for the intent logits, fitted by minimising the held-out negative
  log-likelihood: the softmax then says how often the best intent is right;
- an in-scope factor ``g`` from the Mahalanobis distance of the pooled embedding to the nearest
  intent centroid (class means and one shared, shrunk covariance from the training
  utterances): ``g = 1 / (1 + exp((d - tau) / s))``, with ``tau`` the distance that only
  ``out_of_scope_quantile`` of the held-out in-scope utterances exceed (there ``g`` = 0.5) and
  ``s`` such that the median held-out utterance gets ``g`` = 0.99.

An intent's score is its calibrated softmax probability times ``g`` (probability of the intent
given the utterance is in scope, times the chance it is), so every intent scores in 0 … 1 and
unrelated text scores low on all of them. Measured on atis_clu with three intents held out of
training (bench/results/clu.md): the distance separates them (AUROC 0.984, against 0.947 for the
calibrated softmax alone); with a project ``confidenceThreshold`` of 0.2, 84 % of their test
utterances answer ``None`` and in-scope accuracy drops 0.8 points (0.5: 89 % and 2.5 points).
Training sets under ``min_examples_for_validation``
utterances have no held-out slice: they keep temperature 1 and ``g`` = 1.

The model folder holds ``config.json``, ``encoder_config.json``, ``tokenizer.json``,
``model.safetensors`` and ``calibration.safetensors`` (centroids and precision matrix), no
pickle; a deploy adds ``serving.onnx`` (:mod:`lexicraft.ml.onnx_serving`). The network's one
output holds, per word piece, the slot logits, then the intent logits and the pooled embedding
(the same on every piece), so the ONNX export and runtime of the other MiniLM backends serve it.
"""

from __future__ import annotations

import math
import random
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from tokenizers import Tokenizer

from lexicraft.ml import networks
from lexicraft.ml.artifacts import ModelConfig, read_config, write_config
from lexicraft.ml.base import (
    ClassScore,
    ConversationExample,
    ConversationOutput,
    Progress,
    TrainsWith,
    no_progress,
)
from lexicraft.ml.calibration import fit_temperature
from lexicraft.ml.conversation.validation import check_examples, intents_of
from lexicraft.ml.encoders import MINILM
from lexicraft.ml.ner.transformer import (
    allowed_transitions,
    bio_tag_names,
    decode_all,
    keep_best,
)
from lexicraft.ml.networks import Network
from lexicraft.ml.serving import Precision
from lexicraft.ml.training_plan import check_schedule
from lexicraft.ml.wordpieces import (
    Document,
    Window,
    WordPieces,
    load_tokenizer,
    log_softmax,
    padded,
    prediction_batches,
)

if TYPE_CHECKING:
    from lexicraft.ml.conversation.joint_network import Joint

BACKEND_NAME = "clu.minilm.v1"
CALIBRATION_FILE = "calibration.safetensors"
#: The in-scope factor of the median held-out utterance (sets the factor's slope).
_MEDIAN_FACTOR = 0.99

Float64Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class JointHyperparameters:
    """Training settings for :class:`JointConversationBackend`."""

    epochs: int = 6
    learning_rate: float = 1e-4
    #: The freshly initialised heads learn faster than the pretrained encoder.
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    batch_size: int = 32
    #: Small training sets still get this many updates (more epochs).
    min_steps: int = 150
    #: Large training sets stop after reading this many word pieces (padding included; see
    #: :func:`lexicraft.ml.training_plan.plan_steps`), whatever the clock says: about 9 minutes on
    #: two cores (a step costs about 0.9 ms per piece there).
    max_train_pieces: int | None = 600_000
    #: Word pieces per window, special tokens included.
    train_window: int = 128
    predict_window: int = 256
    #: Word pieces two neighbouring prediction windows share.
    predict_overlap: int = 64
    max_pieces_per_word: int = 16
    #: Share of the utterances held out (per intent, from sets of at least
    #: ``min_examples_for_validation``) to fit the temperature and the in-scope factor.
    validation_fraction: float = 0.1
    min_examples_for_validation: int = 200
    #: Held-out in-scope utterances farther from every intent than this share of them get an
    #: in-scope factor under 0.5.
    out_of_scope_quantile: float = 0.99
    #: An explicit wall-clock cap (None: the data alone decides the length, so the same
    #: project, config and seed give the same model).
    time_budget_s: float | None = None
    #: Seeds weight initialisation, dropout, batch order and the held-out slice.
    seed: int = 0

    def __post_init__(self) -> None:
        check_schedule(self)
        if not 8 <= self.train_window <= 512 or not 8 <= self.predict_window <= 512:
            raise ValueError("windows must hold 8 … 512 word pieces")
        if not 0 <= self.predict_overlap < self.predict_window // 2:
            raise ValueError("predict_overlap must be below half the prediction window")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError("validation_fraction must be in (0, 1)")
        if not 0.5 < self.out_of_scope_quantile < 1.0:
            raise ValueError("out_of_scope_quantile must be in (0.5, 1)")


class JointConfig(ModelConfig):
    """A ``clu.minilm.v1`` folder's ``config.json`` (``labels``: the entity categories)."""

    intents: tuple[str, ...]
    tags: tuple[str, ...]
    hyperparameters: JointHyperparameters
    trained_steps: int
    planned_steps: int
    validation_utterances: int
    #: Divides the intent logits before the softmax (1.0: not fitted).
    temperature: float
    #: The in-scope factor's midpoint and slope in Mahalanobis distance (None: no factor).
    distance_midpoint: float | None
    distance_scale: float | None


@dataclass(frozen=True, slots=True)
class _Calibration:
    temperature: float = 1.0
    midpoint: float | None = None
    scale: float | None = None
    centroids: Float64Array | None = None
    precision: Float64Array | None = None

    def scores(self, logits: Float64Array, pooled: Float64Array) -> Float64Array:
        """Intent scores (utterances x intents): calibrated softmax times the in-scope factor."""
        scaled = logits / self.temperature
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        probabilities: Float64Array = np.exp(scaled)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        if self.midpoint is None or self.scale is None:
            return probabilities
        distance = self.distances(pooled)
        exponent = np.clip((distance - self.midpoint) / self.scale, -60.0, 60.0)
        factor = 1.0 / (1.0 + np.exp(exponent))
        result: Float64Array = probabilities * factor[:, None]
        return result

    def distances(self, pooled: Float64Array) -> Float64Array:
        """Mahalanobis distance of each embedding to its nearest intent centroid."""
        if self.centroids is None or self.precision is None:
            return np.zeros(len(pooled))
        differences = pooled[:, None, :] - self.centroids[None, :, :]
        squared = np.einsum("nch,hk,nck->nc", differences, self.precision, differences)
        result: Float64Array = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
        return result


class JointConversationBackend(TrainsWith[JointHyperparameters]):
    """Trains and loads ``clu.minilm.v1`` models."""

    name = BACKEND_NAME

    def __init__(self, hyperparameters: JointHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or JointHyperparameters())

    def train(
        self,
        examples: Sequence[ConversationExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
        *,
        hyperparameters: JointHyperparameters | None = None,
    ) -> None:
        """Fine-tune on ``examples``, calibrate on a held-out slice; write ``output_dir``."""
        settings = self.settings(hyperparameters)
        label_list = tuple(dict.fromkeys(labels))
        check_examples(examples, label_list)
        intents = intents_of(examples)
        # PyTorch only now: a process that merely serves models never imports it.
        from lexicraft.ml.conversation.joint_network import fine_tune_joint
        from lexicraft.ml.finetune import (
            TorchNetwork,
            save_encoder_files,
            save_weights,
            seed_everything,
        )

        progress(0.0)
        seed_everything(settings.seed)
        rng = random.Random(settings.seed)  # noqa: S311 - shuffling, not secrets
        training, held_out = _split(examples, settings)
        model, tokenizer, config_dict, length = fine_tune_joint(
            training, label_list, intents, settings, rng, progress
        )
        calibration = _Calibration()
        if held_out:
            predictor = JointConversationPredictor(
                TorchNetwork(model), tokenizer, intents, label_list, settings, calibration
            )
            calibration = _calibrate(predictor, training, held_out, intents, settings)
        progress(0.99)

        save_encoder_files(output_dir, config_dict, MINILM)
        save_weights(model, output_dir)
        if calibration.centroids is not None and calibration.precision is not None:
            save_arrays(
                {"centroids": calibration.centroids, "precision": calibration.precision},
                str(output_dir / CALIBRATION_FILE),
            )
        write_config(
            output_dir,
            JointConfig(
                backend=BACKEND_NAME,
                labels=label_list,
                intents=intents,
                tags=tuple(bio_tag_names(label_list)),
                hyperparameters=settings,
                trained_steps=length.trained_steps,
                planned_steps=length.planned_steps,
                validation_utterances=len(held_out),
                temperature=calibration.temperature,
                distance_midpoint=calibration.midpoint,
                distance_scale=calibration.scale,
            ),
        )
        progress(1.0)

    def load(
        self, model_dir: Path, precision: Precision | None = None
    ) -> JointConversationPredictor:
        """Load a model that :meth:`train` wrote (``precision``: from that ONNX graph)."""
        config = read_config(model_dir, JointConfig, BACKEND_NAME)
        centroids = covariance_inverse = None
        if config.distance_midpoint is not None:
            arrays = load_arrays(str(model_dir / CALIBRATION_FILE))
            centroids = arrays["centroids"].astype(np.float64)
            covariance_inverse = arrays["precision"].astype(np.float64)
        calibration = _Calibration(
            config.temperature,
            config.distance_midpoint,
            config.distance_scale,
            centroids,
            covariance_inverse,
        )
        network = networks.serving_network(
            model_dir, lambda: _load_joint(model_dir, config), precision
        )
        return JointConversationPredictor(
            network,
            load_tokenizer(model_dir),
            config.intents,
            config.labels,
            config.hyperparameters,
            calibration,
        )

    def prepare_serving(self, model_dir: Path) -> bool:
        """Write the network as ONNX for serving (see :mod:`lexicraft.ml.onnx_serving`)."""
        from lexicraft.ml import onnx_serving

        config = read_config(model_dir, JointConfig, BACKEND_NAME)
        return onnx_serving.prepare(model_dir, lambda: _load_joint(model_dir, config))


def _load_joint(model_dir: Path, config: JointConfig) -> Joint:
    from lexicraft.ml.conversation.joint_network import load_joint

    return load_joint(model_dir, config)


def _split(
    examples: Sequence[ConversationExample], settings: JointHyperparameters
) -> tuple[list[ConversationExample], list[ConversationExample]]:
    """``(training, held_out)``: each intent gives ``floor(count * fraction)`` utterances, so
    an intent with fewer than ``1 / fraction`` stays whole in training; none for small sets."""
    if len(examples) < settings.min_examples_for_validation:
        return list(examples), []
    by_intent: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_intent[example.intent].append(index)
    rng = random.Random(settings.seed)  # noqa: S311 - a split, not a secret
    held: set[int] = set()
    for intent in sorted(by_intent):
        indexes = by_intent[intent]
        held.update(rng.sample(indexes, int(len(indexes) * settings.validation_fraction)))
    training = [example for index, example in enumerate(examples) if index not in held]
    return training, [example for index, example in enumerate(examples) if index in held]


def _calibrate(
    predictor: JointConversationPredictor,
    training: Sequence[ConversationExample],
    held_out: Sequence[ConversationExample],
    intents: tuple[str, ...],
    settings: JointHyperparameters,
) -> _Calibration:
    """The temperature and in-scope factor that the held-out utterances give."""
    _, train_pooled = predictor.intent_features([e.text for e in training])
    held_logits, held_pooled = predictor.intent_features([e.text for e in held_out])
    index = {intent: number for number, intent in enumerate(intents)}
    gold = np.array([index[example.intent] for example in held_out])

    temperature = fit_temperature(held_logits, gold)

    train_gold = np.array([index[example.intent] for example in training])
    centroids = np.stack(
        [train_pooled[train_gold == number].mean(axis=0) for number in range(len(intents))]
    )
    # One covariance shared by every intent (rare intents have too few utterances for their
    # own), shrunk towards a scaled identity so that 384 dimensions from a few thousand
    # utterances still invert well.
    residuals = train_pooled - centroids[train_gold]
    # scikit-learn only here, in training: a process serving models need not import it.
    from sklearn.covariance import LedoitWolf

    precision = LedoitWolf(assume_centered=True).fit(residuals).get_precision()
    calibration = _Calibration(temperature, None, None, centroids, precision)
    distances = calibration.distances(held_pooled)
    midpoint = float(np.quantile(distances, settings.out_of_scope_quantile))
    median = float(np.median(distances))
    # ``g(median) = _MEDIAN_FACTOR``; a degenerate spread still gets a positive slope.
    scale = max(1e-6, (midpoint - median) / math.log(_MEDIAN_FACTOR / (1 - _MEDIAN_FACTOR)))
    return _Calibration(temperature, midpoint, scale, centroids, precision)


class JointConversationPredictor:
    """A loaded ``clu.minilm.v1`` model."""

    def __init__(
        self,
        network: Network,
        tokenizer: Tokenizer,
        intents: tuple[str, ...],
        labels: tuple[str, ...],
        settings: JointHyperparameters,
        calibration: _Calibration,
    ) -> None:
        self.intents = intents
        self.labels = labels
        self._network = network
        self._vocabulary = WordPieces(tokenizer, settings.max_pieces_per_word)
        self._settings = settings
        self._calibration = calibration
        self._allowed = allowed_transitions(len(labels))
        self._tag_count = 1 + 2 * len(labels)
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

    def predict(self, texts: Sequence[str]) -> list[ConversationOutput]:
        """Every trained intent with its score, best first, and the entities, per text."""
        if not texts:
            return []
        documents, emissions, has_piece, logits, pooled = self._run(texts)
        scores = self._calibration.scores(logits, pooled)
        entities = decode_all(documents, emissions, has_piece, self.labels, self._allowed)
        outputs: list[ConversationOutput] = []
        for number in range(len(documents)):
            ranked = sorted(
                (
                    ClassScore(intent, min(1.0, max(0.0, float(score))))
                    for intent, score in zip(self.intents, scores[number], strict=True)
                ),
                key=lambda score: (-score.confidence, score.category),
            )
            outputs.append(ConversationOutput(tuple(ranked), tuple(entities[number])))
        return outputs

    def intent_features(self, texts: Sequence[str]) -> tuple[Float64Array, Float64Array]:
        """Raw intent logits and pooled embeddings (utterances x …), for calibration."""
        _, _, _, logits, pooled = self._run(texts)
        return logits, pooled

    def _run(
        self, texts: Sequence[str]
    ) -> tuple[
        list[Document],
        list[npt.NDArray[np.float32]],
        list[npt.NDArray[np.bool_]],
        Float64Array,
        Float64Array,
    ]:
        """Per text: its words, their tag log-probabilities and whether each had a piece,
        and (utterances x …) its intent logits and pooled embedding."""
        settings = self._settings
        documents = self._vocabulary.documents(texts)
        windows: list[Window] = []
        for number, document in enumerate(documents):
            windows.extend(
                self._vocabulary.windows(
                    number, document, settings.predict_window, settings.predict_overlap
                )
                or [self._vocabulary.empty_window(number)]
            )
        tags = self._tag_count
        emissions = [np.zeros((len(document.tokens), tags), np.float32) for document in documents]
        best_margin = [np.full(len(document.tokens), -1) for document in documents]
        intent_count = len(self.intents)
        sums: Float64Array | None = None
        weights = np.zeros(len(documents))
        lengths = [len(window.ids) for window in windows]
        with self._lock:
            for batch in prediction_batches(lengths):
                chosen = [windows[index] for index in batch]
                output = self._network.logits(*padded(chosen))
                slot_rows = log_softmax(output[:, :, :tags])
                per_window = output[:, 0, tags:].astype(np.float64)
                if sums is None:
                    sums = np.zeros((len(documents), per_window.shape[1]))
                for row, window in enumerate(chosen):
                    keep_best(
                        window,
                        slot_rows[row],
                        emissions[window.document],
                        best_margin[window.document],
                    )
                    # Longer windows read more of the utterance and count for more.
                    sums[window.document] += len(window.ids) * per_window[row]
                    weights[window.document] += len(window.ids)
        assert sums is not None  # every text has at least one window
        averaged = sums / weights[:, None]
        has_piece = [margin >= 0 for margin in best_margin]
        return (
            documents,
            emissions,
            has_piece,
            averaged[:, :intent_count],
            averaged[:, intent_count:],
        )
