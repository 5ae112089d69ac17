"""Text to encoder input: words, their word pieces and casing, windows, padded batches.

Shared by the fine-tuned encoder backends, in training and in serving (no PyTorch here). Words
come from :func:`lexicraft.ml.tokenize.tokenize` (no whitespace assumption), so every word is a
code-point span of the original text; word pieces come from the encoder's own tokenizer
(:func:`load_tokenizer`), run on each word, and each word has a casing class
(:func:`word_case`). Documents longer than a window are cut into windows of whole words that
may overlap, so no text is ever dropped; windows of similar length are batched together
(:func:`length_batches`, :func:`prediction_batches`).
"""

from __future__ import annotations

import hashlib
import random
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from lexicraft.ml.tokenize import Token, tokenize

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
#: Every encoder model folder's copy of its encoder's tokenizer.
TOKENIZER_FILE = "tokenizer.json"

#: Casing classes of a word; index 0 is for padding and special tokens.
CASE_PAD, CASE_LOWER, CASE_UPPER, CASE_TITLE, CASE_MIXED, CASE_NONE = range(6)
CASE_CLASSES = 6


def word_case(word: str) -> int:
    """The casing class of ``word`` (``CASE_*``)."""
    letters = [character for character in word if character.isalpha()]
    if not letters:
        return CASE_NONE
    if all(character.islower() for character in letters):
        return CASE_LOWER
    if all(character.isupper() for character in letters):
        # One capital letter ("I", "A") is a title-cased word, not an acronym.
        return CASE_UPPER if len(letters) > 1 else CASE_TITLE
    if letters[0].isupper() and all(character.islower() for character in letters[1:]):
        return CASE_TITLE
    return CASE_MIXED


#: The tokenizers loaded in this process, by the SHA-256 of their file, for as long as a model
#: holds one (see :func:`load_tokenizer`).
_LOADED_TOKENIZERS: weakref.WeakValueDictionary[str, Tokenizer] = weakref.WeakValueDictionary()
_LOADED_TOKENIZERS_LOCK = threading.Lock()


def load_tokenizer(folder: Path) -> Tokenizer:
    """The word-piece tokenizer in ``folder``, without padding or truncation.

    Every model folder of an encoder carries the same tokenizer file, so models loaded into one
    process share one tokenizer object while any of them holds it: multilingual-e5-small's
    (250,002 pieces, 17 MB of JSON) takes about 280 MB once loaded, more than its int8 network
    (measured: a second e5 model in a process added 412 MiB, the tokenizer 282 of them).
    Nothing changes a tokenizer after this function configures it, and encoding only reads
    it, so the models may encode with it at once.
    """
    text = (folder / TOKENIZER_FILE).read_bytes()
    digest = hashlib.sha256(text).hexdigest()
    with _LOADED_TOKENIZERS_LOCK:
        tokenizer = _LOADED_TOKENIZERS.get(digest)
        if tokenizer is None:
            tokenizer = Tokenizer.from_str(text.decode("utf-8"))
            tokenizer.no_padding()
            tokenizer.no_truncation()
            _LOADED_TOKENIZERS[digest] = tokenizer
    return tokenizer


@dataclass(slots=True)
class Document:
    """A text as words (code-point spans) and each word's word pieces and casing class."""

    tokens: list[Token]
    pieces: list[list[int]]
    cases: list[int]


@dataclass(slots=True)
class Window:
    """A run of whole words of one document, as encoder input."""

    document: int
    first_word: int
    ids: list[int]
    cases: list[int]
    #: Position in ``ids`` of each word's first piece (-1: the word has no piece).
    positions: list[int]


class WordPieces:
    """Splits texts into words and word pieces and cuts them into windows."""

    def __init__(self, tokenizer: Tokenizer, max_pieces_per_word: int) -> None:
        self.tokenizer = tokenizer
        self.max_pieces = max_pieces_per_word
        self.cls, self.sep = boundary_ids(tokenizer)

    def documents(self, texts: Sequence[str]) -> list[Document]:
        """Each text as words with their pieces (at most ``max_pieces_per_word``) and casing."""
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
            Document(tokens, document_pieces, [word_case(word) for word in document_words])
            for tokens, document_pieces, document_words in zip(
                tokenized, pieces, words, strict=True
            )
        ]

    def windows(self, number: int, document: Document, size: int, overlap: int) -> list[Window]:
        """Windows of whole words, at most ``size`` pieces with the opening and closing token."""
        room = size - 2
        counts = [min(len(pieces), room) for pieces in document.pieces]
        windows: list[Window] = []
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

    def empty_window(self, number: int) -> Window:
        """The opening and closing token alone: what a classifier reads for a text without words."""
        return Window(number, 0, [self.cls, self.sep], [CASE_PAD, CASE_PAD], [])

    def _window(self, number: int, document: Document, start: int, end: int, room: int) -> Window:
        ids, cases, positions = [self.cls], [CASE_PAD], []
        for word in range(start, end):
            pieces = document.pieces[word][: room - (len(ids) - 1)]
            positions.append(len(ids) if pieces else -1)
            ids.extend(pieces)
            cases.extend([document.cases[word]] * len(pieces))
        ids.append(self.sep)
        cases.append(CASE_PAD)
        return Window(number, start, ids, cases, positions)


#: The tokens that open and close an encoder's input: BERT's word-piece vocabularies (MiniLM)
#: and XLM-R's sentencepiece one (multilingual-e5-small).
_BOUNDARIES = (("[CLS]", "[SEP]"), ("<s>", "</s>"))


def boundary_ids(tokenizer: Tokenizer) -> tuple[int, int]:
    """The ids of the tokens that open and close ``tokenizer``'s encoder input."""
    for opening, closing in _BOUNDARIES:
        first, last = tokenizer.token_to_id(opening), tokenizer.token_to_id(closing)
        if first is not None and last is not None:
            return int(first), int(last)
    raise ValueError(f"the tokenizer has none of the boundary token pairs {_BOUNDARIES}")


def padded(windows: Sequence[Window]) -> tuple[IntArray, IntArray, IntArray]:
    """Word-piece ids, casing classes and attention mask of ``windows``, padded to the longest."""
    longest = max(len(window.ids) for window in windows)
    ids = np.zeros((len(windows), longest), dtype=np.int64)
    cases = np.zeros((len(windows), longest), dtype=np.int64)
    mask = np.zeros((len(windows), longest), dtype=np.int64)
    for row, window in enumerate(windows):
        length = len(window.ids)
        ids[row, :length] = window.ids
        cases[row, :length] = window.cases
        mask[row, :length] = 1
    return ids, cases, mask


def length_batches(
    lengths: Sequence[int],
    max_batch: int,
    max_tokens: int,
    rng: random.Random | None,
    *,
    max_padding: float | None = None,
) -> list[list[int]]:
    """Indexes grouped into batches of similar length.

    A batch holds at most ``max_batch`` items and at most ``max_tokens`` padded tokens. With
    ``rng`` the items are shuffled within runs of similar length and the batches shuffled, so
    every epoch sees different batches in a different order; without it the order is fixed.
    With ``max_padding`` a batch of more than ``_SMALL_BATCH_TOKENS`` padded tokens is closed
    before padding would make up more than that share of it.
    """
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    if rng is not None:
        # Shuffle inside coarse length buckets so that equal-length items mix across epochs.
        keyed = [(lengths[index] // 8, rng.random(), index) for index in order]
        order = [index for _, _, index in sorted(keyed)]
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    tokens = 0
    for index in order:
        length = max(1, lengths[index])
        padded = max(longest, length) * (len(current) + 1)
        if current and (
            len(current) >= max_batch
            or padded > max_tokens
            or (
                max_padding is not None
                and padded > _SMALL_BATCH_TOKENS
                and padded - (tokens + length) > max_padding * padded
            )
        ):
            batches.append(current)
            current, longest, tokens = [], 0, 0
        current.append(index)
        longest = max(longest, length)
        tokens += length
    if current:
        batches.append(current)
    if rng is not None:
        rng.shuffle(batches)
    return batches


#: Windows of one forward pass in prediction, and padded tokens (bounding its memory).
PREDICT_BATCH = 64
PREDICT_TOKENS = 64 * 128
#: The share of a prediction batch's tokens that may be padding. A call's texts differ in
#: length (a job's documents; conll2003's test sentences: 1 to 124 words), and one batch
#: padded to the longest computed 2.8 times the tokens it read on 1,000 of them (5.5 times the
#: attention scores); on a CPU, batches of a few similar windows run as fast per token.
PREDICT_MAX_PADDING = 0.25
#: Below this many padded tokens a batch takes any window: a forward pass has a fixed cost,
#: which a handful of short windows would otherwise pay one by one.
_SMALL_BATCH_TOKENS = 512


def prediction_batches(lengths: Sequence[int]) -> list[list[int]]:
    """Indexes of windows of ``lengths`` word pieces in the batches a prediction runs: similar
    lengths together, little padding (:data:`PREDICT_MAX_PADDING`), at most
    :data:`PREDICT_BATCH` windows and :data:`PREDICT_TOKENS` padded tokens."""
    return length_batches(
        lengths, PREDICT_BATCH, PREDICT_TOKENS, None, max_padding=PREDICT_MAX_PADDING
    )


Scores = TypeVar("Scores", bound=npt.NDArray[np.floating[Any]])


def log_softmax(logits: Scores) -> Scores:
    """Log-probabilities over the last axis, in ``logits``' precision."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: Scores = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result
