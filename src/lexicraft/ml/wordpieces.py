"""Text to encoder input: words, their word pieces and casing, windows, padded arrays.

Shared by the fine-tuned encoder backends. Words come from :func:`lexicraft.ml.tokenize.tokenize`
(no whitespace assumption), so every word is a code-point span of the original text; word pieces
come from the encoder's own tokenizer, run on each word. Documents longer than a window are cut
into windows of whole words that may overlap, so no text is ever dropped.

The network of a loaded model runs in PyTorch or, for an exported model, in ONNX Runtime;
:class:`Network` is what both offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from tokenizers import Tokenizer

from lexicraft.ml.finetune import CASE_PAD, pick_device, word_case
from lexicraft.ml.serving import ServingOptions, session_options
from lexicraft.ml.tokenize import Token, tokenize

FloatArray = npt.NDArray[np.float32]


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


IntArray = npt.NDArray[np.int64]


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


class Network(Protocol):
    """The network of a loaded model, in whichever runtime runs it."""

    #: Which runtime runs it: ``"pytorch"`` or ``"onnxruntime"``.
    runtime: str
    #: The ONNX graph it runs (None: PyTorch).
    path: Path | None

    def logits(self, ids: IntArray, cases: IntArray, mask: IntArray) -> FloatArray:
        """The network's output for a padded batch of windows (see :func:`padded`)."""
        ...


class TorchNetwork:
    """A PyTorch module that maps (ids, cases, mask) to logits, on CUDA when there is one."""

    runtime = "pytorch"
    path: Path | None = None

    def __init__(self, model: torch.nn.Module) -> None:
        self._device = pick_device()
        self._model = model.to(self._device).eval()

    def logits(self, ids: IntArray, cases: IntArray, mask: IntArray) -> FloatArray:
        with torch.inference_mode():
            inputs = [torch.from_numpy(array).to(self._device) for array in (ids, cases, mask)]
            result: FloatArray = self._model(*inputs).float().cpu().numpy()
            return result


class OnnxNetwork:
    """The same network exported as ONNX (inputs ids, cases, mask; output logits), in one
    session with this process's serving thread settings (:mod:`lexicraft.ml.serving`)."""

    runtime = "onnxruntime"

    def __init__(self, path: Path, options: ServingOptions | None = None) -> None:
        import onnxruntime

        self.path: Path | None = path
        self._session = onnxruntime.InferenceSession(
            str(path), sess_options=session_options(options), providers=onnx_providers()
        )

    def logits(self, ids: IntArray, cases: IntArray, mask: IntArray) -> FloatArray:
        (result,) = self._session.run(["logits"], {"ids": ids, "cases": cases, "mask": mask})
        return np.asarray(result, dtype=np.float32)


Scores = TypeVar("Scores", bound=npt.NDArray[np.floating[Any]])


def log_softmax(logits: Scores) -> Scores:
    """Log-probabilities over the last axis, in ``logits``' precision."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: Scores = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


def onnx_providers() -> list[str]:
    """ONNX Runtime providers to use: CUDA when available, else the CPU."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    return [name for name in ("CUDAExecutionProvider", "CPUExecutionProvider") if name in available]
