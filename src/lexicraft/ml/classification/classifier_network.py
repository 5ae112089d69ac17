"""The PyTorch network of the encoder classification backends
(:mod:`lexicraft.ml.classification.transformer`) and its fine-tuning: imported only to train a
model, to write its serving graphs, or to serve it where no graph serves it (see
:mod:`lexicraft.ml.networks`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import torch
from tokenizers import Tokenizer

from lexicraft.ml.base import ClassExample, Progress
from lexicraft.ml.classification.transformer import TransformerClassifierHyperparameters
from lexicraft.ml.finetune import (
    CasedEncoder,
    encoder_config,
    fine_tune,
    load_weights,
    pick_device,
    pretrained_encoder,
)
from lexicraft.ml.training_plan import TrainedLength
from lexicraft.ml.wordpieces import Window, WordPieces, padded


class Classifier(torch.nn.Module):
    """The encoder, mean-pooled, with a linear layer scoring the classes."""

    def __init__(self, encoder: CasedEncoder, class_count: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(encoder.hidden_size, class_count)

    def forward(self, ids: torch.Tensor, cases: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(ids, cases, mask)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        logits: torch.Tensor = self.head(self.dropout(pooled))
        return logits


def fine_tune_classifier(
    encoder_name: str,
    examples: Sequence[ClassExample],
    labels: tuple[str, ...],
    settings: TransformerClassifierHyperparameters,
    progress: Progress,
    *,
    sigmoid: bool,
) -> tuple[Classifier, Tokenizer, dict[str, object], TrainedLength]:
    """The encoder ``encoder_name`` fine-tuned to score ``labels`` (a softmax over them, or a
    sigmoid each with ``sigmoid``) on ``examples``, its tokenizer and config, and how long it
    trained."""
    rng = random.Random(settings.seed)  # noqa: S311 - shuffling, not secrets
    encoder, tokenizer, config_dict = pretrained_encoder(encoder_name)
    encoder.freeze_word_embeddings()
    pieces = WordPieces(tokenizer, settings.max_pieces_per_word)
    index = {label: number for number, label in enumerate(labels)}
    windows: list[Window] = []
    targets: list[list[float]] = []
    documents = pieces.documents([example.text for example in examples])
    for number, (example, document) in enumerate(zip(examples, documents, strict=True)):
        if sigmoid:
            # Each class is its own yes/no question.
            target = [float(label in example.classes) for label in labels]
        else:
            # A document's classes share its probability; one without any spreads it
            # evenly, which teaches low scores for every class.
            share = 1.0 / len(example.classes) if example.classes else 1.0 / len(labels)
            target = [0.0 if example.classes else share] * len(labels)
            for category in example.classes:
                target[index[category]] = share
        document_windows = pieces.windows(number, document, settings.window, 0)
        for window in document_windows[: settings.max_train_windows] or [
            pieces.empty_window(number)
        ]:
            windows.append(window)
            targets.append(target)
    device = pick_device()
    model = Classifier(encoder, len(labels)).to(device).train()
    gold_all = torch.tensor(targets, dtype=torch.float32)

    def batch_loss(batch: Sequence[int]) -> torch.Tensor:
        ids, cases, mask = (
            torch.from_numpy(array).to(device)
            for array in padded([windows[number] for number in batch])
        )
        gold = gold_all[list(batch)].to(device)
        logits = model(ids, cases, mask)
        if sigmoid:
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, gold)
        return torch.nn.functional.cross_entropy(
            logits, gold, label_smoothing=settings.label_smoothing
        )

    length = fine_tune(
        model,
        model.encoder,
        model.head,
        [len(window.ids) for window in windows],
        batch_loss,
        settings,
        settings.window,
        rng,
        lambda fraction: progress(min(0.99, 0.97 * fraction)),
    )
    return model.eval(), tokenizer, config_dict, length


def load_classifier(model_dir: Path, class_count: int) -> Classifier:
    """The classifier of ``class_count`` classes whose weights ``model_dir`` holds."""
    model = Classifier(CasedEncoder(encoder_config(model_dir)), class_count)
    load_weights(model, model_dir)
    return model.eval()
