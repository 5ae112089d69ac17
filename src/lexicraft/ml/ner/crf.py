"""``ner.crf.v1``: a linear-chain CRF (CRFsuite) over BIO tags on our own tokens.

Tokens come from :func:`lexicraft.ml.tokenize.tokenize`, so text needs no spaces between words.
The model directory holds ``config.json`` (backend name, labels, hyper-parameters) and
``model.crfsuite``, CRFsuite's own binary model format (no pickle).
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pycrfsuite

from lexicraft.ml.artifacts import ModelConfig, read_config, write_config
from lexicraft.ml.base import NerExample, PredictedSpan, Progress, TrainsWith, no_progress
from lexicraft.ml.ner.validation import check_examples
from lexicraft.ml.tokenize import Token, align_spans_to_tokens, is_per_character_script, tokenize

BACKEND_NAME = "ner.crf.v1"
MODEL_FILE = "model.crfsuite"
_OUTSIDE = "O"
FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class CrfHyperparameters:
    """Training settings for :class:`CrfNerBackend` (L-BFGS with elastic-net regularisation)."""

    #: L1 weight: prunes the many rare features, which keeps the model small and general.
    c1: float = 0.05
    #: L2 weight.
    c2: float = 0.05
    max_iterations: int = 100
    #: Also learn weights for tag transitions never seen in training (e.g. ``O`` → ``I-X``), so
    #: the model can learn to avoid them.
    possible_transitions: bool = True

    def __post_init__(self) -> None:
        if self.c1 < 0 or self.c2 < 0:
            raise ValueError(f"c1 and c2 must be >= 0, got c1={self.c1} c2={self.c2}")
        if self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {self.max_iterations}")


class CrfConfig(ModelConfig):
    """A ``ner.crf.v1`` folder's ``config.json``."""

    hyperparameters: CrfHyperparameters
    model_file: str = MODEL_FILE


class CrfNerBackend(TrainsWith[CrfHyperparameters]):
    """Trains and loads ``ner.crf.v1`` models."""

    name = BACKEND_NAME

    def __init__(self, hyperparameters: CrfHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or CrfHyperparameters())

    def train(
        self,
        examples: Sequence[NerExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
        *,
        hyperparameters: CrfHyperparameters | None = None,
    ) -> None:
        """Train on ``examples``; write ``config.json`` and ``model.crfsuite`` to ``output_dir``.

        ``hyperparameters``: the settings to train with (None: :attr:`hyperparameters`); they
        are stored in ``config.json``.
        """
        settings = self.settings(hyperparameters)
        label_list = list(dict.fromkeys(labels))
        check_examples(examples, label_list)
        progress(0.0)
        trainer = _ProgressTrainer(settings.max_iterations, progress)
        trainer.set_params(
            {
                "c1": settings.c1,
                "c2": settings.c2,
                "max_iterations": settings.max_iterations,
                "feature.possible_transitions": settings.possible_transitions,
            }
        )
        sequences = 0
        for example in examples:
            tokens = tokenize(example.text)
            if not tokens:
                continue
            trainer.append(
                _features(example.text, tokens), align_spans_to_tokens(tokens, example.spans)
            )
            sequences += 1
        if sequences == 0:
            raise ValueError("no training example has any token; add documents with text")
        output_dir.mkdir(parents=True, exist_ok=True)
        trainer.train(str(output_dir / MODEL_FILE))
        write_config(
            output_dir,
            CrfConfig(backend=BACKEND_NAME, labels=tuple(label_list), hyperparameters=settings),
        )
        progress(1.0)

    def load(self, model_dir: Path) -> CrfNerPredictor:
        """Load a model that :meth:`train` wrote."""
        config = read_config(model_dir, CrfConfig, BACKEND_NAME)
        model_bytes = (model_dir / config.model_file).read_bytes()
        return CrfNerPredictor(model_bytes, config.labels)


class CrfNerPredictor:
    """A loaded ``ner.crf.v1`` model."""

    def __init__(self, model_bytes: bytes, labels: tuple[str, ...]) -> None:
        self.labels = labels
        # CRFsuite reads the model in place without copying it, so the bytes must live as long
        # as the tagger: dropping them leaves the tagger reading freed memory (a segfault).
        self._model_bytes = model_bytes
        self._tagger = pycrfsuite.Tagger()
        # Loading from memory rather than by path keeps the predictor valid if the model
        # directory is moved or deleted while it is in use.
        self._tagger.open_inmemory(self._model_bytes)
        # A CRFsuite tagger keeps the current sequence inside itself, so concurrent calls
        # (e.g. from a thread pool serving requests) must take turns.
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str]) -> list[list[PredictedSpan]]:
        """Entities for each text, sorted by start, non-overlapping, inside the text."""
        with self._lock:
            return [self._predict_one(text) for text in texts]

    def marginals(
        self, texts: Sequence[str], words: Sequence[Sequence[Token]], tags: Sequence[str]
    ) -> list[FloatArray]:
        """Each text's ``words`` (its :func:`~lexicraft.ml.tokenize.tokenize` tokens, which the
        caller has already) by ``tags``: the probability the model gives each tag at each word
        (0 for a tag it never learnt).

        What a blend with another tagger of the same words needs (``ner.minilm.v2``).
        """
        with self._lock:
            known = set(self._tagger.labels())
            result = []
            for text, tokens in zip(texts, words, strict=True):
                probabilities = np.zeros((len(tokens), len(tags)), dtype=np.float32)
                if tokens:
                    self._tagger.set(_features(text, tokens))
                    for column, tag in enumerate(tags):
                        if tag in known:
                            for word in range(len(tokens)):
                                probabilities[word, column] = self._tagger.marginal(tag, word)
                result.append(probabilities)
            return result

    def _predict_one(self, text: str) -> list[PredictedSpan]:
        tokens = tokenize(text)
        if not tokens:
            return []
        tags: list[str] = self._tagger.tag(_features(text, tokens))
        spans: list[PredictedSpan] = []
        for category, first, last in decode_bio(tags):
            # An entity is right only if every one of its tokens is, so its confidence is the
            # weakest token's marginal; a mean would let a long, confident span hide an
            # uncertain boundary token.
            confidence = min(
                self._tagger.marginal(tags[index], index) for index in range(first, last)
            )
            spans.append(
                PredictedSpan(
                    start=tokens[first][0],
                    end=tokens[last - 1][1],
                    category=category,
                    confidence=min(1.0, max(0.0, float(confidence))),
                )
            )
        return spans


def decode_bio(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(category, first_token, end_token)`` for each entity in ``tags``.

    Repairs invalid sequences the way most BIO decoders do: an ``I-X`` that does not continue an
    ``X`` entity (after ``O`` or another category) starts a new ``X`` entity.
    """
    entities: list[tuple[str, int, int]] = []
    current: str | None = None
    first = 0
    for index, tag in enumerate(tags):
        prefix, _, category = tag.partition("-")
        continues = prefix == "I" and category == current
        if continues:
            continue
        if current is not None:
            entities.append((current, first, index))
            current = None
        if prefix in ("B", "I") and category:
            current, first = category, index
    if current is not None:
        entities.append((current, first, len(tags)))
    return entities


class _ProgressTrainer(pycrfsuite.Trainer):  # type: ignore[misc]  # pycrfsuite has no stubs
    """A CRFsuite trainer that reports L-BFGS iterations as progress instead of printing logs."""

    def __init__(self, max_iterations: int, progress: Progress) -> None:
        # ``verbose`` must stay on: it is what routes CRFsuite's log through the ``on_*`` hooks.
        super().__init__(algorithm="lbfgs", verbose=True)
        self._max_iterations = max_iterations
        self._progress = progress

    def on_iteration(self, log: str, info: dict[str, Any]) -> None:
        # The last iteration is not the end of training (the model still has to be written),
        # so stay just short of 1.0 until train() returns.
        self._progress(min(0.99, int(info["num"]) / self._max_iterations))

    def on_start(self, log: str) -> None:
        pass

    def on_featgen_progress(self, log: str, percent: float) -> None:
        pass

    def on_featgen_end(self, log: str) -> None:
        pass

    def on_prepared(self, log: str) -> None:
        pass

    def on_prepare_error(self, log: str) -> None:
        pass

    def on_optimization_end(self, log: str) -> None:
        pass

    def on_end(self, log: str) -> None:
        pass


def _features(text: str, tokens: Sequence[Token]) -> list[list[str]]:
    """CRFsuite attributes for each token: its own word features plus its neighbours' (±2)."""
    words = [text[start:end] for start, end in tokens]
    own = [_word_features(word) for word in words]
    lowered = [word.lower() for word in words]
    shapes = [_short_shape(word) for word in words]
    sequence: list[list[str]] = []
    last = len(tokens) - 1
    # Headlines in capitals make casing useless; telling the model so lets it lean on other cues.
    all_upper = text.isupper()
    for index, (start, end) in enumerate(tokens):
        attributes = list(own[index])
        if all_upper:
            attributes.append("text_upper")
        # Whether a token is glued to its neighbours tells "U.S." from "end of sentence ."
        # and "-" inside "1996-08-22" from a dash between words.
        if index > 0 and tokens[index - 1][1] == start:
            attributes.append("glued_left")
        if index < last and tokens[index + 1][0] == end:
            attributes.append("glued_right")
        if index == 0:
            attributes.append("BOS")
        if index == last:
            attributes.append("EOS")
        for offset in (-2, -1, 1, 2):
            neighbour = index + offset
            if 0 <= neighbour <= last:
                attributes.append(f"{offset}:lower={lowered[neighbour]}")
                attributes.append(f"{offset}:shape={shapes[neighbour]}")
                if abs(offset) == 1:
                    attributes.extend(f"{offset}:{feature}" for feature in _flags(words[neighbour]))
                    attributes.append(f"{offset}:suffix3={lowered[neighbour][-3:]}")
        if index > 0:
            attributes.append(f"-1|0:lower={lowered[index - 1]}|{lowered[index]}")
        if index < last:
            attributes.append(f"0|+1:lower={lowered[index]}|{lowered[index + 1]}")
        sequence.append(attributes)
    return sequence


#: Words whose own features are kept (a few MB): running text repeats most of its words, and
#: these pure functions of a word are most of a CRF's Python time when it predicts.
_WORD_CACHE = 16_384


@functools.lru_cache(maxsize=_WORD_CACHE)
def _word_features(word: str) -> tuple[str, ...]:
    lower = word.lower()
    features = [
        "bias",
        f"lower={lower}",
        f"shape={_shape(word)}",
        f"short_shape={_short_shape(word)}",
        f"length={min(len(word), 8)}",
    ]
    for size in range(1, 5):
        if len(lower) >= size:
            features.append(f"prefix{size}={lower[:size]}")
            features.append(f"suffix{size}={lower[-size:]}")
    features.extend(_flags(word))
    return tuple(features)


@functools.lru_cache(maxsize=_WORD_CACHE)
def _flags(word: str) -> tuple[str, ...]:
    flags: list[str] = []
    if word.istitle():
        flags.append("is_title")
    if word.isupper():
        flags.append("is_upper")
    if word.islower():
        flags.append("is_lower")
    if word.isdigit():
        flags.append("is_digit")
    elif any(character.isdigit() for character in word):
        flags.append("has_digit")
    if all(unicodedata.category(character).startswith("P") for character in word):
        flags.append("is_punctuation")
    if is_per_character_script(word):
        flags.append("is_cjk")
    return tuple(flags)


def _shape(word: str) -> str:
    """``Xxxxx`` / ``dddd-dd`` style shape, truncated so long words share shapes."""
    characters: list[str] = []
    for character in word[:12]:
        if character.isupper():
            characters.append("X")
        elif character.islower():
            characters.append("x")
        elif character.isdigit():
            characters.append("d")
        elif character.isalpha():
            characters.append("a")
        else:
            characters.append(character)
    return "".join(characters)


@functools.lru_cache(maxsize=_WORD_CACHE)
def _short_shape(word: str) -> str:
    """:func:`_shape` with runs of one class collapsed: ``Xxxxx`` → ``Xx``."""
    collapsed: list[str] = []
    for character in _shape(word):
        if not collapsed or collapsed[-1] != character:
            collapsed.append(character)
    return "".join(collapsed)
