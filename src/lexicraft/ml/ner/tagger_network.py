"""The PyTorch network of the encoder NER backends (:mod:`lexicraft.ml.ner.transformer`) and its
fine-tuning: imported only to train a model, to write its serving graphs, or to serve it where
no graph serves it (see :mod:`lexicraft.ml.networks`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from lexicraft.ml.base import NerExample, Progress
from lexicraft.ml.finetune import (
    CasedEncoder,
    encoder_config,
    fine_tune,
    load_weights,
    pick_device,
    pretrained_encoder,
)
from lexicraft.ml.ner.transformer import TransformerNerHyperparameters, bio_tag_names
from lexicraft.ml.tokenize import align_spans_to_tokens
from lexicraft.ml.training_plan import TrainedLength
from lexicraft.ml.wordpieces import Window, WordPieces, padded

#: The target of a word piece that is not a word's first: no loss.
_IGNORE = -100


class Tagger(torch.nn.Module):
    """The encoder with a linear layer scoring each word piece's BIO tag."""

    def __init__(self, encoder: CasedEncoder, tag_count: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.classifier = torch.nn.Linear(encoder.hidden_size, tag_count)

    def forward(self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.dropout(self.encoder(ids, cases, mask)))
        return logits


def fine_tune_tagger(
    encoder_name: str,
    examples: Sequence[NerExample],
    labels: Sequence[str],
    settings: TransformerNerHyperparameters,
    progress: Progress,
) -> tuple[Tagger, Tokenizer, dict[str, Any], TrainedLength]:
    """The encoder ``encoder_name`` fine-tuned as a tagger of ``labels`` on ``examples``, its
    tokenizer and config, and how long it trained."""
    rng = random.Random(settings.seed)  # noqa: S311 - shuffling, not secrets
    device = pick_device()
    encoder, tokenizer, config_dict = pretrained_encoder(encoder_name)
    encoder.freeze_word_embeddings()
    tag_names = bio_tag_names(labels)
    tag_index = {tag: index for index, tag in enumerate(tag_names)}
    vocabulary = WordPieces(tokenizer, settings.max_pieces_per_word)

    windows: list[Window] = []
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

    model = Tagger(encoder, len(tag_names)).to(device).train()
    lengths = [len(window.ids) for window in windows]

    def batch_loss(batch: Sequence[int]) -> torch.Tensor:
        ids, cases, mask = (
            torch.from_numpy(array).to(device)
            for array in padded([windows[index] for index in batch])
        )
        gold = torch.full(ids.shape, _IGNORE, dtype=torch.long)
        for row, index in enumerate(batch):
            gold[row, : len(targets[index])] = torch.tensor(targets[index])
        logits = model(ids, cases, mask)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]),
            gold.to(device).reshape(-1),
            ignore_index=_IGNORE,
        )

    length = fine_tune(
        model,
        model.encoder,
        model.classifier,
        lengths,
        batch_loss,
        settings,
        settings.train_window,
        rng,
        progress,
    )
    return model, tokenizer, config_dict, length


def load_tagger(model_dir: Path, label_count: int) -> Tagger:
    """The tagger of ``label_count`` categories whose weights ``model_dir`` holds."""
    model = Tagger(CasedEncoder(encoder_config(model_dir)), 1 + 2 * label_count)
    load_weights(model, model_dir)
    return model.eval()
