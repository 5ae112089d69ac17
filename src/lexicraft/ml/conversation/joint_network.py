"""The PyTorch network of ``clu.minilm.v1`` (:mod:`lexicraft.ml.conversation.joint`) and its
fine-tuning: imported only to train a model, to write its serving graph, or to serve it where
no graph serves it (see :mod:`lexicraft.ml.networks`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from lexicraft.ml.base import ConversationExample, Progress
from lexicraft.ml.conversation.joint import JointConfig, JointHyperparameters
from lexicraft.ml.finetune import (
    CasedEncoder,
    encoder_config,
    fine_tune,
    load_weights,
    pick_device,
    pretrained_encoder,
)
from lexicraft.ml.ner.transformer import bio_tag_names
from lexicraft.ml.tokenize import align_spans_to_tokens
from lexicraft.ml.training_plan import TrainedLength
from lexicraft.ml.wordpieces import Window, WordPieces, padded

#: The slot target of a word piece that is not a word's first: no loss.
_IGNORE = -100


class Joint(torch.nn.Module):
    """The encoder with a BIO slot head over its word pieces and an intent head over its
    mean-pooled output."""

    def __init__(self, encoder: CasedEncoder, tag_count: int, intent_count: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.slots = torch.nn.Linear(encoder.hidden_size, tag_count)
        self.intents = torch.nn.Linear(encoder.hidden_size, intent_count)

    def parts(
        self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Slot logits (batch x pieces x tags), intent logits, pooled embedding."""
        hidden = self.encoder(ids, cases, mask)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        slots: torch.Tensor = self.slots(self.dropout(hidden))
        intents: torch.Tensor = self.intents(self.dropout(pooled))
        return slots, intents, pooled

    def forward(self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # One output for the shared ONNX export and runtime (see the module docstring).
        slots, intents, pooled = self.parts(ids, cases, mask)
        pieces = slots.shape[1]
        per_utterance = torch.cat([intents, pooled], dim=-1).unsqueeze(1)
        return torch.cat([slots, per_utterance.expand(-1, pieces, -1)], dim=-1)


class Heads(torch.nn.Module):
    """Both heads as one module: what :func:`lexicraft.ml.finetune.fine_tune` trains at the
    faster rate."""

    def __init__(self, model: Joint) -> None:
        super().__init__()
        self.slots = model.slots
        self.intents = model.intents


def fine_tune_joint(
    training: Sequence[ConversationExample],
    labels: tuple[str, ...],
    intents: tuple[str, ...],
    settings: JointHyperparameters,
    rng: random.Random,
    progress: Progress,
) -> tuple[Joint, Tokenizer, dict[str, Any], TrainedLength]:
    """MiniLM fine-tuned on ``training`` to tag ``labels``' slots and score ``intents`` at once
    (batches shuffled by ``rng``), its tokenizer and config, and how long it trained."""
    encoder, tokenizer, config_dict = pretrained_encoder()
    encoder.freeze_word_embeddings()
    tag_names = bio_tag_names(labels)
    tag_index = {tag: index for index, tag in enumerate(tag_names)}
    intent_index = {intent: index for index, intent in enumerate(intents)}
    vocabulary = WordPieces(tokenizer, settings.max_pieces_per_word)

    windows: list[Window] = []
    slot_targets: list[list[int]] = []
    intent_targets: list[int] = []
    documents = vocabulary.documents([example.text for example in training])
    for number, (example, document) in enumerate(zip(training, documents, strict=True)):
        tags = align_spans_to_tokens(document.tokens, example.spans)
        for window in vocabulary.windows(number, document, settings.train_window, 0) or [
            vocabulary.empty_window(number)
        ]:
            target = [_IGNORE] * len(window.ids)
            for offset, position in enumerate(window.positions):
                if position >= 0:
                    target[position] = tag_index[tags[window.first_word + offset]]
            windows.append(window)
            slot_targets.append(target)
            intent_targets.append(intent_index[example.intent])

    device = pick_device()
    model = Joint(encoder, len(tag_names), len(intents)).to(device).train()
    all_intents = torch.tensor(intent_targets, dtype=torch.long)

    def batch_loss(batch: Sequence[int]) -> torch.Tensor:
        ids, cases, mask = (
            torch.from_numpy(array).to(device)
            for array in padded([windows[index] for index in batch])
        )
        gold = torch.full(ids.shape, _IGNORE, dtype=torch.long)
        for row, index in enumerate(batch):
            gold[row, : len(slot_targets[index])] = torch.tensor(slot_targets[index])
        slots, intent_logits, _ = model.parts(ids, cases, mask)
        slot_loss = torch.nn.functional.cross_entropy(
            slots.reshape(-1, slots.shape[-1]),
            gold.to(device).reshape(-1),
            ignore_index=_IGNORE,
        )
        intent_loss = torch.nn.functional.cross_entropy(
            intent_logits, all_intents[list(batch)].to(device)
        )
        return slot_loss + intent_loss

    length = fine_tune(
        model,
        model.encoder,
        Heads(model),
        [len(window.ids) for window in windows],
        batch_loss,
        settings,
        settings.train_window,
        rng,
        lambda fraction: progress(min(0.9, 0.9 * fraction)),
    )
    return model.eval(), tokenizer, config_dict, length


def load_joint(model_dir: Path, config: JointConfig) -> Joint:
    """The network whose weights ``model_dir`` holds (``config``: its ``config.json``)."""
    model = Joint(CasedEncoder(encoder_config(model_dir)), len(config.tags), len(config.intents))
    load_weights(model, model_dir)
    return model.eval()
