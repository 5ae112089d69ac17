"""A model folder served by a fresh Python process, as ``lexicraft serve`` or ``lexicraft
predict`` serves one: what it predicts, and whether it imported PyTorch to do so.

A prepared folder runs in ONNX Runtime on a machine without CUDA, and a process that only
serves must not pay PyTorch's seconds and hundreds of megabytes for nothing
(:mod:`lexicraft.ml.networks`). Only a process of its own shows that: the test process has
imported PyTorch long before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexicraft.ml.base import ClassScore, ConversationOutput, PredictedSpan

_SERVE = """
import dataclasses, json, sys
from pathlib import Path
from lexicraft.ml import networks, registry

predictor = getattr(registry, sys.argv[1])(Path(sys.argv[2]))
predictions = predictor.predict(json.load(sys.stdin))
pytorch = sorted({"torch", "transformers"} & sys.modules.keys())
json.dump(
    {
        "runtime": getattr(predictor, "runtime", None),
        "pytorch": pytorch,
        "cuda": networks.cuda_available(),
        "predictions": predictions,
    },
    sys.stdout,
    default=dataclasses.asdict,
)
"""


@dataclass(frozen=True)
class Served:
    """What the fresh process reported."""

    #: ``"onnxruntime"``, ``"pytorch"``, or None for a backend without a network.
    runtime: str | None
    #: Which of torch and transformers it imported.
    pytorch: list[str]
    #: Whether the machine has CUDA (where PyTorch serves encoder models).
    cuda: bool
    #: The predictions, as JSON.
    predictions: list[Any]


def serve(loader: str, model_dir: Path, texts: list[str]) -> Served:
    """``texts`` predicted by the folder ``model_dir``, loaded by ``registry.<loader>`` in a
    new interpreter."""
    finished = subprocess.run(
        [sys.executable, "-c", _SERVE, loader, str(model_dir)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return Served(**json.loads(finished.stdout))


def ner_predictions(served: Served) -> list[list[PredictedSpan]]:
    return [[PredictedSpan(**span) for span in spans] for spans in served.predictions]


def classification_predictions(served: Served) -> list[list[ClassScore]]:
    return [[ClassScore(**score) for score in scores] for scores in served.predictions]


def conversation_predictions(served: Served) -> list[ConversationOutput]:
    return [
        ConversationOutput(
            tuple(ClassScore(**score) for score in output["intents"]),
            tuple(PredictedSpan(**span) for span in output["entities"]),
        )
        for output in served.predictions
    ]
