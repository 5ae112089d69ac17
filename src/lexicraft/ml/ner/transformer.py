"""``ner.minilm.v1``: the packaged all-MiniLM-L6-v2 encoder fine-tuned as a BIO tagger.

Text is split into words by :func:`lexicraft.ml.tokenize.tokenize` (no whitespace assumption),
each word into word pieces; a word's tag is predicted from its first piece. The encoder also sees
each word's casing class (:class:`lexicraft.ml.finetune.CasedEncoder`), since it is uncased.

Decoding is a Viterbi search over the tag log-probabilities that only allows valid BIO sequences
(no ``I-X`` after ``O`` or after another category), which removes the broken, low-precision
entities that per-token argmax produces. An entity's confidence is the lowest probability its
words give their chosen tags.

Documents longer than a window are split into overlapping windows of whole words; every word
takes its prediction from the window where it has the most context on both sides, so nothing is
truncated. The model directory holds ``config.json``, ``encoder_config.json``,
``tokenizer.json`` and ``model.safetensors`` (no pickle).
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
from tokenizers import Tokenizer

from lexicraft.ml.base import NerExample, PredictedSpan, Progress, no_progress
from lexicraft.ml.finetune import (
    CASE_PAD,
    CasedEncoder,
    TimeBudgetSchedule,
    encoder_config,
    length_batches,
    load_tokenizer,
    load_weights,
    pick_device,
    pretrained_encoder,
    save_encoder_files,
    save_weights,
    word_case,
)
from lexicraft.ml.ner.validation import check_examples
from lexicraft.ml.tokenize import Token, align_spans_to_tokens, tokenize

BACKEND_NAME = "ner.minilm.v1"
CONFIG_FILE = "config.json"
_FORMAT_VERSION = 1
_IGNORE = -100

FloatArray = npt.NDArray[np.float32]


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
    #: Word pieces per window, special tokens included.
    train_window: int = 128
    predict_window: int = 256
    #: Word pieces two neighbouring prediction windows share.
    predict_overlap: int = 64
    #: A word's pieces beyond this many are dropped (its tag comes from the first; long URLs
    #: and hashes would otherwise eat whole windows).
    max_pieces_per_word: int = 16
    #: Training stops (with a fully decayed learning rate) within this many seconds.
    time_budget_s: float | None = 900.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.min_steps < 0:
            raise ValueError("epochs and batch_size must be >= 1 and min_steps >= 0")
        if not 8 <= self.train_window <= 512 or not 8 <= self.predict_window <= 512:
            raise ValueError("windows must hold 8 … 512 word pieces")
        if not 0 <= self.predict_overlap < self.predict_window // 2:
            raise ValueError("predict_overlap must be below half the prediction window")


class _Tagger(torch.nn.Module):
    def __init__(self, encoder: CasedEncoder, tag_count: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(encoder.hidden_size, tag_count)

    def forward(self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.dropout(self.encoder(ids, cases, mask)))
        return logits


@dataclass(slots=True)
class _Document:
    """A text as words (code-point spans) and each word's word pieces and casing class."""

    tokens: list[Token]
    pieces: list[list[int]]
    cases: list[int]


@dataclass(slots=True)
class _Window:
    document: int
    first_word: int
    ids: list[int]
    cases: list[int]
    #: Position in ``ids`` of each word's first piece (-1: the word has no piece).
    positions: list[int]


class _Vocabulary:
    def __init__(self, tokenizer: Tokenizer, max_pieces_per_word: int) -> None:
        self.tokenizer = tokenizer
        self.max_pieces = max_pieces_per_word
        self.cls = _required_id(tokenizer, "[CLS]")
        self.sep = _required_id(tokenizer, "[SEP]")

    def documents(self, texts: Sequence[str]) -> list[_Document]:
        tokenized = [tokenize(text) for text in texts]
        words = [
            [text[start:end] for start, end in tokens]
            for text, tokens in zip(texts, tokenized, strict=True)
        ]
        non_empty = [index for index, document in enumerate(words) if document]
        encodings = self.tokenizer.encode_batch(
            [words[index] for index in non_empty], is_pretokenized=True, add_special_tokens=False
        )
        pieces: list[list[list[int]]] = [[] for _ in texts]
        for index, encoding in zip(non_empty, encodings, strict=True):
            per_word: list[list[int]] = [[] for _ in words[index]]
            for piece, word in zip(encoding.ids, encoding.word_ids, strict=True):
                if word is not None and len(per_word[word]) < self.max_pieces:
                    per_word[word].append(piece)
            pieces[index] = per_word
        return [
            _Document(tokens, document_pieces, [word_case(word) for word in document_words])
            for tokens, document_pieces, document_words in zip(
                tokenized, pieces, words, strict=True
            )
        ]

    def windows(self, number: int, document: _Document, size: int, overlap: int) -> list[_Window]:
        """Windows of whole words, at most ``size`` pieces with [CLS] and [SEP]."""
        room = size - 2
        counts = [min(len(pieces), room) for pieces in document.pieces]
        windows: list[_Window] = []
        start = 0
        while start < len(counts):
            end, used = start, 0
            while end < len(counts) and (end == start or used + counts[end] <= room):
                used += counts[end]
                end += 1
            windows.append(self._window(number, document, start, end, room))
            if end >= len(counts):
                break
            # Step back so the next window re-reads about ``overlap`` pieces, always moving on.
            back, shared = end, 0
            while back - 1 > start and shared + counts[back - 1] <= overlap:
                back -= 1
                shared += counts[back]
            start = back
        return windows

    def _window(self, number: int, document: _Document, start: int, end: int, room: int) -> _Window:
        ids, cases, positions = [self.cls], [CASE_PAD], []
        for word in range(start, end):
            pieces = document.pieces[word][: room - (len(ids) - 1)]
            positions.append(len(ids) if pieces else -1)
            ids.extend(pieces)
            cases.extend([document.cases[word]] * len(pieces))
        ids.append(self.sep)
        cases.append(CASE_PAD)
        return _Window(number, start, ids, cases, positions)


def _required_id(tokenizer: Tokenizer, token: str) -> int:
    token_id = tokenizer.token_to_id(token)
    if token_id is None:
        raise ValueError(f"the tokenizer has no {token} token")
    return int(token_id)


def _tag_names(labels: Sequence[str]) -> list[str]:
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


def _tensors(
    windows: Sequence[_Window], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    longest = max(len(window.ids) for window in windows)
    ids = torch.zeros((len(windows), longest), dtype=torch.long)
    cases = torch.zeros((len(windows), longest), dtype=torch.long)
    mask = torch.zeros((len(windows), longest), dtype=torch.long)
    for row, window in enumerate(windows):
        length = len(window.ids)
        ids[row, :length] = torch.tensor(window.ids)
        cases[row, :length] = torch.tensor(window.cases)
        mask[row, :length] = 1
    return ids.to(device), cases.to(device), mask.to(device)


class TransformerNerBackend:
    """Trains and loads ``ner.minilm.v1`` models."""

    name = BACKEND_NAME

    def __init__(self, hyperparameters: TransformerNerHyperparameters | None = None) -> None:
        self.hyperparameters = hyperparameters or TransformerNerHyperparameters()

    def train(
        self,
        examples: Sequence[NerExample],
        labels: Sequence[str],
        output_dir: Path,
        progress: Progress = no_progress,
    ) -> None:
        """Fine-tune on ``examples``; write the model folder to ``output_dir``."""
        settings = self.hyperparameters
        label_list = list(dict.fromkeys(labels))
        check_examples(examples, label_list)
        progress(0.0)
        torch.manual_seed(settings.seed)
        rng = random.Random(settings.seed)  # noqa: S311 - shuffling, not secrets
        device = pick_device()
        encoder, tokenizer, config_dict = pretrained_encoder()
        encoder.freeze_word_embeddings()
        tag_names = _tag_names(label_list)
        tag_index = {tag: index for index, tag in enumerate(tag_names)}
        vocabulary = _Vocabulary(tokenizer, settings.max_pieces_per_word)

        windows: list[_Window] = []
        targets: list[list[int]] = []
        documents = vocabulary.documents([example.text for example in examples])
        for number, (example, document) in enumerate(zip(examples, documents, strict=True)):
            tags = align_spans_to_tokens(document.tokens, example.spans)
            for window in vocabulary.windows(number, document, settings.train_window, 0):
                target = [_IGNORE] * len(window.ids)
                for offset, position in enumerate(window.positions):
                    if position >= 0:
                        target[position] = tag_index[tags[window.first_word + offset]]
                windows.append(window)
                targets.append(target)
        if not windows:
            raise ValueError("no training example has any token; add documents with text")

        model = _Tagger(encoder, len(tag_names)).to(device).train()
        lengths = [len(window.ids) for window in windows]
        max_tokens = settings.batch_size * settings.train_window
        batches_per_epoch = len(length_batches(lengths, settings.batch_size, max_tokens, None))
        epochs = max(settings.epochs, math.ceil(settings.min_steps / batches_per_epoch))
        schedule = TimeBudgetSchedule(epochs * batches_per_epoch, settings.time_budget_s)
        optimizer = torch.optim.AdamW(
            [
                {
                    "params": [p for p in model.encoder.parameters() if p.requires_grad],
                    "lr": settings.learning_rate,
                },
                {"params": model.classifier.parameters(), "lr": settings.head_learning_rate},
            ],
            weight_decay=settings.weight_decay,
        )
        base_rates = [group["lr"] for group in optimizer.param_groups]
        while not schedule.done:
            for batch in length_batches(lengths, settings.batch_size, max_tokens, rng):
                ids, cases, mask = _tensors([windows[index] for index in batch], device)
                gold = torch.full(ids.shape, _IGNORE, dtype=torch.long)
                for row, index in enumerate(batch):
                    gold[row, : len(targets[index])] = torch.tensor(targets[index])
                for group, rate in zip(optimizer.param_groups, base_rates, strict=True):
                    group["lr"] = rate * schedule.factor()
                logits = model(ids, cases, mask)
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]),
                    gold.to(device).reshape(-1),
                    ignore_index=_IGNORE,
                )
                loss.backward()  # type: ignore[no-untyped-call]
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                schedule.advance()
                progress(min(0.99, schedule.fraction))
                if schedule.done:
                    break

        save_encoder_files(output_dir, config_dict)
        save_weights(model, output_dir)
        config = {
            "backend": BACKEND_NAME,
            "format_version": _FORMAT_VERSION,
            "labels": label_list,
            "tags": tag_names,
            "hyperparameters": asdict(settings),
            "trained_steps": schedule.step,
        }
        (output_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        progress(1.0)

    def load(self, model_dir: Path) -> TransformerNerPredictor:
        """Load a model that :meth:`train` wrote."""
        config = json.loads((model_dir / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("backend") != BACKEND_NAME:
            raise ValueError(
                f"{model_dir} holds a {config.get('backend')!r} model, not a {BACKEND_NAME!r} one"
            )
        settings = TransformerNerHyperparameters(**config["hyperparameters"])
        labels = tuple(config["labels"])
        model = _Tagger(CasedEncoder(encoder_config(model_dir)), len(_tag_names(labels)))
        load_weights(model, model_dir)
        return TransformerNerPredictor(model, load_tokenizer(model_dir), labels, settings)


class TransformerNerPredictor:
    """A loaded ``ner.minilm.v1`` model."""

    def __init__(
        self,
        model: _Tagger,
        tokenizer: Tokenizer,
        labels: tuple[str, ...],
        settings: TransformerNerHyperparameters,
    ) -> None:
        self.labels = labels
        self._device = pick_device()
        self._model = model.to(self._device).eval()
        self._vocabulary = _Vocabulary(tokenizer, settings.max_pieces_per_word)
        self._settings = settings
        self._allowed = _allowed_transitions(len(labels))
        # One forward pass at a time: torch already spreads one batch over every core.
        self._lock = threading.Lock()

    def predict(self, texts: Sequence[str]) -> list[list[PredictedSpan]]:
        """Entities for each text, sorted by start, non-overlapping, inside the text."""
        if not texts:
            return []
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
        with self._lock, torch.inference_mode():
            for batch in length_batches(lengths, 64, 64 * 128, None):
                chosen = [windows[index] for index in batch]
                ids, cases, mask = _tensors(chosen, self._device)
                log_probs = torch.log_softmax(self._model(ids, cases, mask).float(), dim=-1)
                rows = log_probs.cpu().numpy()
                for window, row in zip(chosen, rows, strict=True):
                    _keep_best(
                        window, row, emissions[window.document], best_margin[window.document]
                    )
        return [
            self._decode(document, emission, margin >= 0)
            for document, emission, margin in zip(documents, emissions, best_margin, strict=True)
        ]

    def _decode(
        self, document: _Document, emission: FloatArray, has_piece: npt.NDArray[np.bool_]
    ) -> list[PredictedSpan]:
        if not document.tokens:
            return []
        scores = emission.copy()
        # A word without word pieces (a character the vocabulary drops) gets no vote: it may
        # stay outside or continue an entity, but not start one.
        no_vote = ~has_piece
        scores[no_vote] = 0.0
        scores[np.ix_(no_vote, np.arange(1, scores.shape[1], 2))] = -np.inf
        path = _viterbi(scores, self._allowed)
        spans: list[PredictedSpan] = []
        word = 0
        while word < len(path):
            tag = path[word]
            if tag == 0:
                word += 1
                continue
            label = (tag - 1) // 2
            end = word + 1
            while end < len(path) and path[end] == 2 + 2 * label:
                end += 1
            voted = [index for index in range(word, end) if has_piece[index]]
            confidence = float(np.exp(min(emission[index, path[index]] for index in voted)))
            spans.append(
                PredictedSpan(
                    start=document.tokens[word][0],
                    end=document.tokens[end - 1][1],
                    category=self.labels[label],
                    confidence=min(1.0, max(0.0, confidence)),
                )
            )
            word = end
        return spans


def _keep_best(
    window: _Window, row: FloatArray, emission: FloatArray, best_margin: npt.NDArray[np.int_]
) -> None:
    """Copy ``window``'s word scores into ``emission`` where it gives a word more context."""
    count = len(window.positions)
    for offset, position in enumerate(window.positions):
        if position < 0:
            continue
        word = window.first_word + offset
        margin = min(offset, count - 1 - offset)
        if margin > best_margin[word]:
            best_margin[word] = margin
            emission[word] = row[position]


def _allowed_transitions(label_count: int) -> npt.NDArray[np.bool_]:
    """``allowed[previous, next]`` for BIO tags ``O, B-1, I-1, B-2, I-2, …``; row -1 is start."""
    tag_count = 1 + 2 * label_count
    allowed = np.ones((tag_count + 1, tag_count), dtype=bool)
    for label in range(label_count):
        inside = 2 + 2 * label
        allowed[:, inside] = False
        allowed[1 + 2 * label, inside] = True
        allowed[inside, inside] = True
    return allowed


def _viterbi(scores: FloatArray, allowed: npt.NDArray[np.bool_]) -> list[int]:
    """The best tag path under ``scores`` (words by tags) that only takes allowed transitions."""
    penalty = np.where(allowed, 0.0, -np.inf)
    best = scores[0] + penalty[-1]
    back = np.zeros(scores.shape, dtype=np.int64)
    for word in range(1, len(scores)):
        candidates = best[:, None] + penalty[:-1]
        back[word] = np.argmax(candidates, axis=0)
        best = candidates[back[word], np.arange(scores.shape[1])] + scores[word]
    path = [int(np.argmax(best))]
    for word in range(len(scores) - 1, 0, -1):
        path.append(int(back[word, path[-1]]))
    return path[::-1]
