"""``textcat.linear.v1`` / ``textcat.linear-multi.v1``: TF-IDF features + logistic regression.

Features are TF-IDF of word 1-2-grams (over :func:`lexicraft.ml.tokenize.tokenize` tokens, so
text without spaces still yields words) and of character 2-5-grams inside word boundaries, both
with sublinear term frequency, each block L2-normalised.

Single-label: one multinomial logistic regression; the confidence is the softmax probability of
the chosen class. Multi-label: one binary logistic regression per class with a per-class decision
threshold, tuned on a held-out part of the training data before the final fit on all of it.

A model directory holds ``config.json``, ``vocabulary.json`` (the n-gram terms in feature order)
and ``weights.npz`` (idf vectors, coefficients, intercepts, thresholds) — plain arrays read with
``allow_pickle=False``, so loading a model never runs code from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from lexicraft.ml.artifacts import ModelConfig, read_config, write_config
from lexicraft.ml.base import ClassExample, ClassScore, Progress, TrainsWith, no_progress
from lexicraft.ml.classification.thresholds import best_thresholds
from lexicraft.ml.classification.validation import check_examples
from lexicraft.ml.encoders import MINILM, sentence_encoder
from lexicraft.ml.tokenize import tokenize

SINGLE_LABEL_BACKEND_NAME = "textcat.linear.v1"
MULTI_LABEL_BACKEND_NAME = "textcat.linear-multi.v1"
HYBRID_SINGLE_LABEL_BACKEND_NAME = "textcat.hybrid.v1"
HYBRID_MULTI_LABEL_BACKEND_NAME = "textcat.hybrid-multi.v1"
VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"

FloatArray = npt.NDArray[np.float64]
EmbeddingArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class LinearHyperparameters:
    """Training settings for the linear classifiers."""

    #: Inverse L2 strength of the logistic regressions. TF-IDF features are many and sparse,
    #: and fairly weak regularisation (C > 1) is what usually works best for them.
    c: float = 10.0
    #: L-BFGS iterations; high enough that the solver converges on tens of thousands of
    #: documents rather than stopping early with a ConvergenceWarning.
    max_iterations: int = 2000
    #: Terms seen in fewer documents are dropped once a training set has at least
    #: ``min_document_frequency_from`` documents; tiny sets keep every term so that a class
    #: with one example can still be learned.
    min_document_frequency: int = 2
    min_document_frequency_from: int = 200
    #: Multi-label only: share of the training data held out to tune per-class thresholds.
    validation_fraction: float = 0.2
    #: Multi-label only: thresholds are tuned only with at least this many documents in total
    #: and, per class, at least ``min_validation_positives`` positives in the held-out part;
    #: otherwise the class keeps ``default_threshold``.
    min_examples_for_validation: int = 50
    min_validation_positives: int = 5
    default_threshold: float = 0.5
    seed: int = 0
    #: A sentence encoder (see :mod:`lexicraft.ml.encoders`) whose embeddings are appended to
    #: the TF-IDF features, scaled by ``encoder_weight``; None for TF-IDF alone. The weight
    #: balances the dense block against the two L2-normalised sparse blocks (0.5 measured
    #: best on banking77 and ag_news, see bench/README.md).
    sentence_encoder: str | None = None
    encoder_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.c <= 0:
            raise ValueError(f"c must be > 0, got {self.c}")
        if self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {self.max_iterations}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"validation_fraction must be between 0 and 1, got {self.validation_fraction}"
            )
        if not 0.0 < self.default_threshold < 1.0:
            raise ValueError(
                f"default_threshold must be between 0 and 1, got {self.default_threshold}"
            )


class LinearConfig(ModelConfig):
    """A linear model folder's ``config.json``."""

    multi_label: bool
    #: The classes the weight rows score, in row order (single-label: those seen in training).
    classes: tuple[str, ...]
    hyperparameters: LinearHyperparameters


class LinearClassificationBackend(TrainsWith[LinearHyperparameters]):
    """Trains and loads ``textcat.linear.v1`` (single-label) models."""

    name = SINGLE_LABEL_BACKEND_NAME
    multi_label = False

    def __init__(self, hyperparameters: LinearHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or LinearHyperparameters())

    def train(
        self,
        examples: Sequence[ClassExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
        *,
        hyperparameters: LinearHyperparameters | None = None,
    ) -> None:
        """Train on ``examples`` and write the model to ``output_dir``.

        ``hyperparameters``: the settings to train with (None: :attr:`hyperparameters`); they
        are stored in ``config.json``.
        """
        settings = self.settings(hyperparameters)
        model = fit_linear_model(examples, labels, self.multi_label, settings, progress=progress)
        save_linear_model(model, self.name, settings, output_dir)
        progress(1.0)

    def load(self, model_dir: Path) -> LinearClassificationPredictor:
        """Load a model that :meth:`train` wrote."""
        return load_linear_model(model_dir, expected_backend=self.name)


class LinearMultiLabelClassificationBackend(LinearClassificationBackend):
    """Trains and loads ``textcat.linear-multi.v1`` (multi-label) models."""

    name = MULTI_LABEL_BACKEND_NAME
    multi_label = True


class HybridClassificationBackend(LinearClassificationBackend):
    """``textcat.hybrid.v1``: TF-IDF plus frozen MiniLM sentence embeddings, one regression.

    The classifiers of ``2022-05-01`` before the fine-tuned encoder: no training config version
    trains them now, but the models they trained are deployed, so the name stays registered
    and those folders keep loading and serving as they were trained.
    """

    name = HYBRID_SINGLE_LABEL_BACKEND_NAME
    multi_label = False

    def __init__(self, hyperparameters: LinearHyperparameters | None = None) -> None:
        super().__init__(hyperparameters or LinearHyperparameters(sentence_encoder=MINILM))


class HybridMultiLabelClassificationBackend(HybridClassificationBackend):
    """``textcat.hybrid-multi.v1``: the multi-label form of :class:`HybridClassificationBackend`."""

    name = HYBRID_MULTI_LABEL_BACKEND_NAME
    multi_label = True


@dataclass(slots=True)
class LinearModel:
    """A trained linear classifier: vectorizers plus one weight row per scored class.

    Single-label: ``classes`` are the classes seen in training and scores are the softmax over
    the rows. Multi-label: ``classes`` are all labels and each row gives a sigmoid score;
    ``constant_scores`` holds 0.0 / 1.0 for a class that was never / always present in training
    (its row is unused) and NaN for a class with a fitted row.
    """

    labels: tuple[str, ...]
    multi_label: bool
    classes: tuple[str, ...]
    word_vectorizer: TfidfVectorizer
    char_vectorizer: TfidfVectorizer
    coefficients: FloatArray
    intercepts: FloatArray
    thresholds: FloatArray
    constant_scores: FloatArray
    sentence_encoder: str | None = None
    encoder_weight: float = 0.5

    def features(
        self, texts: Sequence[str], embeddings: EmbeddingArray | None = None
    ) -> scipy.sparse.csr_matrix:
        """The feature matrix (documents by features) of ``texts``.

        ``embeddings`` may carry the texts' sentence embeddings when they are already known.
        """
        return _feature_matrix(
            self.word_vectorizer.transform(texts),
            self.char_vectorizer.transform(texts),
            self._embeddings(texts, embeddings),
            self.encoder_weight,
        )

    def _embeddings(
        self, texts: Sequence[str], embeddings: EmbeddingArray | None
    ) -> EmbeddingArray | None:
        if self.sentence_encoder is None or embeddings is not None:
            return embeddings
        return sentence_encoder(self.sentence_encoder).embed(texts)

    def scores(self, texts: Sequence[str], embeddings: EmbeddingArray | None = None) -> FloatArray:
        """Per-document probabilities for each of :attr:`classes` (documents by classes)."""
        logits = np.asarray(self.features(texts, embeddings) @ self.coefficients.T)
        logits = logits + self.intercepts
        if not self.multi_label:
            return softmax(logits)
        probabilities = sigmoid(logits)
        constant = ~np.isnan(self.constant_scores)
        probabilities[:, constant] = self.constant_scores[constant]
        return probabilities


class LinearClassificationPredictor:
    """A loaded linear classifier."""

    def __init__(self, model: LinearModel) -> None:
        self.labels = model.labels
        self.multi_label = model.multi_label
        self.model = model

    def predict(self, texts: Sequence[str]) -> list[list[ClassScore]]:
        """The chosen classes per text, best first (exactly one for single-label)."""
        if not texts:
            return []
        scores = self.model.scores(texts)
        classes = self.model.classes
        results: list[list[ClassScore]] = []
        for row in scores:
            if self.multi_label:
                chosen = [
                    ClassScore(classes[index], _probability(row[index]))
                    for index in np.flatnonzero(row >= self.model.thresholds)
                ]
                chosen.sort(key=lambda score: (-score.confidence, score.category))
            else:
                best = int(np.argmax(row))
                chosen = [ClassScore(classes[best], _probability(row[best]))]
            results.append(chosen)
        return results


def fit_linear_model(
    examples: Sequence[ClassExample],
    labels: Sequence[str],
    multi_label: bool,
    hyperparameters: LinearHyperparameters,
    progress: Progress = no_progress,
    tune_thresholds: bool = True,
) -> LinearModel:
    """Fit vectorizers and logistic regressions (and, multi-label, tune thresholds).

    ``tune_thresholds=False`` keeps every multi-label threshold at the default and fits once:
    for a caller that tunes its own thresholds on scores this model contributes to.
    """
    label_list = tuple(dict.fromkeys(labels))
    check_examples(examples, label_list, multi_label)
    progress(0.0)
    embeddings: EmbeddingArray | None = None
    start = 0.0
    if hyperparameters.sentence_encoder is not None:
        # Embedding is most of the work; it is done once and shared by every fit below.
        start = 0.6
        embeddings = sentence_encoder(hyperparameters.sentence_encoder).embed(
            [example.text for example in examples],
            progress=lambda fraction: progress(start * fraction),
        )
    middle = (start + 1.0) / 2
    if not multi_label:
        return _fit(examples, embeddings, label_list, False, hyperparameters, progress, start, 1.0)
    thresholds = np.full(len(label_list), hyperparameters.default_threshold)
    if tune_thresholds and len(examples) >= hyperparameters.min_examples_for_validation:
        thresholds = _tune_thresholds(
            examples, embeddings, label_list, hyperparameters, progress, start, middle
        )
        progress(middle)
        model = _fit(examples, embeddings, label_list, True, hyperparameters, progress, middle, 1.0)
    else:
        model = _fit(examples, embeddings, label_list, True, hyperparameters, progress, start, 1.0)
    model.thresholds = thresholds
    return model


def save_linear_model(
    model: LinearModel,
    backend_name: str,
    hyperparameters: LinearHyperparameters,
    output_dir: Path,
) -> None:
    """Write ``model`` as ``config.json`` + ``vocabulary.json`` + ``weights.npz``."""
    write_config(
        output_dir,
        LinearConfig(
            backend=backend_name,
            labels=model.labels,
            multi_label=model.multi_label,
            classes=model.classes,
            hyperparameters=hyperparameters,
        ),
    )
    vocabulary = {
        "word": _terms_in_order(model.word_vectorizer),
        "char": _terms_in_order(model.char_vectorizer),
    }
    (output_dir / VOCABULARY_FILE).write_text(
        json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8"
    )
    with (output_dir / WEIGHTS_FILE).open("wb") as weights:
        np.savez(
            weights,
            word_idf=model.word_vectorizer.idf_,
            char_idf=model.char_vectorizer.idf_,
            coefficients=model.coefficients,
            intercepts=model.intercepts,
            thresholds=model.thresholds,
            constant_scores=model.constant_scores,
        )


def load_linear_model(
    model_dir: Path, expected_backend: str | None = None
) -> LinearClassificationPredictor:
    """Load a model that :func:`save_linear_model` wrote."""
    config = read_config(model_dir, LinearConfig, expected_backend)
    vocabulary = json.loads((model_dir / VOCABULARY_FILE).read_text(encoding="utf-8"))
    with np.load(model_dir / WEIGHTS_FILE, allow_pickle=False) as weights:
        arrays = {name: np.asarray(weights[name], dtype=np.float64) for name in weights.files}
    word_vectorizer = _word_vectorizer(vocabulary=vocabulary["word"])
    word_vectorizer.idf_ = arrays["word_idf"]
    char_vectorizer = _char_vectorizer(vocabulary=vocabulary["char"])
    char_vectorizer.idf_ = arrays["char_idf"]
    saved = config.hyperparameters
    model = LinearModel(
        labels=config.labels,
        multi_label=config.multi_label,
        classes=config.classes,
        word_vectorizer=word_vectorizer,
        char_vectorizer=char_vectorizer,
        coefficients=arrays["coefficients"],
        intercepts=arrays["intercepts"],
        thresholds=arrays["thresholds"],
        constant_scores=arrays["constant_scores"],
        sentence_encoder=saved.sentence_encoder,
        encoder_weight=saved.encoder_weight,
    )
    return LinearClassificationPredictor(model)


def _fit(
    examples: Sequence[ClassExample],
    embeddings: EmbeddingArray | None,
    labels: tuple[str, ...],
    multi_label: bool,
    hyperparameters: LinearHyperparameters,
    progress: Progress,
    progress_from: float,
    progress_to: float,
) -> LinearModel:
    """Fit vectorizers and weights on ``examples`` (thresholds left at the default)."""
    texts = [example.text for example in examples]
    min_df = (
        hyperparameters.min_document_frequency
        if len(texts) >= hyperparameters.min_document_frequency_from
        else 1
    )
    word_vectorizer = _word_vectorizer(min_df=min_df)
    char_vectorizer = _char_vectorizer(min_df=min_df)
    features = _feature_matrix(
        word_vectorizer.fit_transform(texts),
        char_vectorizer.fit_transform(texts),
        embeddings,
        hyperparameters.encoder_weight,
    )
    feature_count = features.shape[1]

    def report(fraction: float) -> None:
        progress(progress_from + (progress_to - progress_from) * fraction)

    report(0.1)
    if multi_label:
        classes = labels
        coefficients = np.zeros((len(classes), feature_count))
        intercepts = np.zeros(len(classes))
        constant_scores = np.full(len(classes), np.nan)
        for index, label in enumerate(classes):
            targets = np.array([label in example.classes for example in examples])
            if targets.all() or not targets.any():
                # A logistic regression needs both outcomes; a class that is always (never)
                # present is simply always (never) predicted.
                constant_scores[index] = 1.0 if targets.all() else 0.0
            else:
                regression = _logistic_regression(hyperparameters).fit(features, targets)
                coefficients[index] = regression.coef_[0]
                intercepts[index] = regression.intercept_[0]
            report(0.1 + 0.9 * (index + 1) / len(classes))
    else:
        targets_list = [example.classes[0] for example in examples]
        seen = set(targets_list)
        classes = tuple(label for label in labels if label in seen)
        constant_scores = np.full(len(classes), np.nan)
        if len(classes) == 1:
            # One seen class: a single zero row, whose softmax is 1.0 for every document.
            coefficients = np.zeros((1, feature_count))
            intercepts = np.zeros(1)
        else:
            regression = _logistic_regression(hyperparameters).fit(
                features, np.array([classes.index(target) for target in targets_list])
            )
            if len(classes) == 2:
                # A binary regression has one row w; softmax over rows (0, w) equals its
                # sigmoid, so both cases share one scoring path.
                coefficients = np.vstack([np.zeros(feature_count), regression.coef_[0]])
                intercepts = np.array([0.0, regression.intercept_[0]])
            else:
                coefficients = np.asarray(regression.coef_, dtype=np.float64)
                intercepts = np.asarray(regression.intercept_, dtype=np.float64)
        report(1.0)
    return LinearModel(
        labels=labels,
        multi_label=multi_label,
        classes=classes,
        word_vectorizer=word_vectorizer,
        char_vectorizer=char_vectorizer,
        coefficients=coefficients,
        intercepts=intercepts,
        thresholds=np.full(len(classes), hyperparameters.default_threshold),
        constant_scores=constant_scores,
        sentence_encoder=hyperparameters.sentence_encoder,
        encoder_weight=hyperparameters.encoder_weight,
    )


def _tune_thresholds(
    examples: Sequence[ClassExample],
    embeddings: EmbeddingArray | None,
    labels: tuple[str, ...],
    hyperparameters: LinearHyperparameters,
    progress: Progress,
    progress_from: float,
    progress_to: float,
) -> FloatArray:
    """Per-class thresholds that maximise F1 on a held-out part of ``examples``."""
    order = np.random.default_rng(hyperparameters.seed).permutation(len(examples))
    validation_size = max(1, round(len(examples) * hyperparameters.validation_fraction))
    validation = [examples[index] for index in order[:validation_size]]
    training = [examples[index] for index in order[validation_size:]]
    model = _fit(
        training,
        None if embeddings is None else embeddings[order[validation_size:]],
        labels,
        True,
        hyperparameters,
        progress,
        progress_from,
        progress_to,
    )
    scores = model.scores(
        [example.text for example in validation],
        None if embeddings is None else embeddings[order[:validation_size]],
    )
    targets = np.array([[label in example.classes for label in labels] for example in validation])
    # A class with a constant score (always or never present in training) has nothing to tune.
    constant = ~np.isnan(model.constant_scores)
    targets[:, constant] = False
    return best_thresholds(
        scores,
        targets,
        hyperparameters.default_threshold,
        hyperparameters.min_validation_positives,
    )


def _logistic_regression(hyperparameters: LinearHyperparameters) -> LogisticRegression:
    # lbfgs fits the multinomial model for three or more classes by default; the
    # ``multi_class`` argument is deprecated, so it is not passed.
    return LogisticRegression(
        C=hyperparameters.c,
        max_iter=hyperparameters.max_iterations,
        solver="lbfgs",
    )


def _feature_matrix(
    words: scipy.sparse.spmatrix,
    characters: scipy.sparse.spmatrix,
    embeddings: EmbeddingArray | None,
    encoder_weight: float,
) -> scipy.sparse.csr_matrix:
    blocks = [words, characters]
    if embeddings is not None:
        blocks.append(scipy.sparse.csr_matrix(embeddings.astype(np.float64) * encoder_weight))
    return scipy.sparse.hstack(blocks, format="csr")


def _word_tokens(text: str) -> list[str]:
    return [text[start:end] for start, end in tokenize(text)]


def _word_vectorizer(vocabulary: list[str] | None = None, min_df: int = 1) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=_word_tokens,
        token_pattern=None,
        lowercase=True,
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        vocabulary=_vocabulary_mapping(vocabulary),
        dtype=np.float64,
    )


def _char_vectorizer(vocabulary: list[str] | None = None, min_df: int = 1) -> TfidfVectorizer:
    return TfidfVectorizer(
        analyzer="char_wb",
        lowercase=True,
        ngram_range=(2, 5),
        sublinear_tf=True,
        min_df=min_df,
        vocabulary=_vocabulary_mapping(vocabulary),
        dtype=np.float64,
    )


def _vocabulary_mapping(terms: list[str] | None) -> dict[str, int] | None:
    return None if terms is None else {term: index for index, term in enumerate(terms)}


def _terms_in_order(vectorizer: TfidfVectorizer) -> list[str]:
    terms: list[Any] = [""] * len(vectorizer.vocabulary_)
    for term, index in vectorizer.vocabulary_.items():
        terms[index] = term
    return [str(term) for term in terms]


def softmax(logits: FloatArray) -> FloatArray:
    """Row-wise softmax of ``logits`` (documents by classes)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exponentials = np.exp(shifted)
    result: FloatArray = exponentials / exponentials.sum(axis=1, keepdims=True)
    return result


def sigmoid(logits: FloatArray) -> FloatArray:
    """Element-wise logistic function of ``logits``."""
    # Written with exp of a non-positive number only, so large logits cannot overflow.
    exponentials = np.exp(-np.abs(logits))
    result: FloatArray = np.where(
        logits >= 0, 1.0 / (1.0 + exponentials), exponentials / (1.0 + exponentials)
    )
    return result


def _probability(value: np.floating[Any] | float) -> float:
    return min(1.0, max(0.0, float(value)))
