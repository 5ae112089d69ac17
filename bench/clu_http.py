"""One ``:analyze-conversations`` call over HTTP: the ``http`` section of bench/results/clu.json.

Starts ``lexicraft serve`` over a temporary data dir (bench/runtime.py's server), imports
atis_clu's train split as a Conversation project through the authoring API (its dev split as
the Test set: nothing learns from test), trains it with the given training config version
(default: the default one), deploys it, and then calls ``POST /language/:analyze-conversations``
once per test utterance, one call at a time, after a warm-up. Beside it, in the same run, the
deployed model's own single-utterance time in process (the model folder the deployment serves,
loaded as the server loads it: ONNX Runtime on a CPU), so the HTTP figure reads as a ratio.

Usage: ``python bench/clu_http.py [--config 2022-05-01] [--calls 300] [--train-limit N]``;
``make bench-clu`` runs it after bench/clu.py.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clu import DATASET, DEFAULT_OUTPUT, write_markdown
from common import (
    command_line,
    git_revision,
    load_results,
    load_split,
    machine_info,
    now_iso,
    save_results,
)
from runtime import client, percentile, serve, wait

from lexicraft.ml import registry

PROJECT = "bench-atis"
AUTHORING = "/language/authoring/analyze-conversations/projects"
API = {"api-version": "2023-04-01"}
WARM_UP_CALLS = 20


def project_file(train: Sequence[dict[str, Any]], dev: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """atis_clu as an Azure CLU project file (the texts are ASCII: UTF-16 offsets as given)."""
    records = [(record, "Train") for record in train] + [(record, "Test") for record in dev]
    intents = sorted({record["intent"] for record, _ in records} | {"None"})
    entities = sorted({e["category"] for record, _ in records for e in record["entities"]})
    return {
        "projectFileVersion": "2023-04-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectKind": "Conversation", "projectName": PROJECT, "language": "en-us"},
        "assets": {
            "projectKind": "Conversation",
            "intents": [{"category": intent} for intent in intents],
            "entities": [{"category": category} for category in entities],
            "utterances": [
                {
                    "text": record["text"],
                    "intent": record["intent"],
                    "dataset": dataset,
                    "entities": [
                        {k: e[k] for k in ("category", "offset", "length")}
                        for e in record["entities"]
                    ],
                }
                for record, dataset in records
            ],
        },
    }


def authoring(http: Any, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.request(method, f"{AUTHORING}/{PROJECT}{path}", params=API, json=body)
    response.raise_for_status()
    return wait(http, response.headers["Operation-Location"], 0.5)


def analyze(http: Any, text: str) -> float:
    """Seconds of one call, as the client sees it."""
    body = {
        "kind": "Conversation",
        "analysisInput": {"conversationItem": {"id": "1", "participantId": "1", "text": text}},
        "parameters": {"projectName": PROJECT, "deploymentName": "production"},
    }
    started = time.perf_counter()
    response = http.post("/language/:analyze-conversations", params=API, json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def served_model_dir(data_dir: Path) -> Path:
    """The one model folder the server trained (the local model store's layout)."""
    configs = sorted(data_dir.rglob(registry.MODEL_CONFIG_FILE))
    folders = {path.parent for path in configs if (path.parent / "checksums.json").exists()}
    roots = [folder for folder in folders if not any(p in folders for p in folder.parents)]
    if len(roots) != 1:
        raise RuntimeError(f"expected one trained model under {data_dir}, found {roots}")
    return roots[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=registry.DEFAULT_TRAINING_CONFIG_VERSION)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--train-limit", type=int, default=None, help="smoke runs only")
    arguments = parser.parse_args(argv)
    train, dev = load_split(DATASET, "train"), load_split(DATASET, "dev")
    if arguments.train_limit is not None:
        train, dev = train[: arguments.train_limit], dev[: arguments.train_limit // 4]
    texts = [record["text"] for record in load_split(DATASET, "test")]
    calls = [texts[index % len(texts)] for index in range(arguments.calls)]

    with tempfile.TemporaryDirectory(prefix="bench-clu-http-") as folder:
        data_dir = Path(folder)
        with serve(data_dir) as base_url, client(base_url) as http:
            authoring(http, "POST", "/:import", project_file(train, dev))
            started = time.perf_counter()
            trained = authoring(
                http,
                "POST",
                "/:train",
                {
                    "modelLabel": "m1",
                    "trainingMode": "standard",
                    "trainingConfigVersion": arguments.config,
                    "evaluationOptions": {"kind": "manual"},
                },
            )
            train_s = time.perf_counter() - started
            authoring(http, "PUT", "/deployments/production", {"trainedModelLabel": "m1"})
            for text in calls[:WARM_UP_CALLS]:
                analyze(http, text)
            seen = [analyze(http, text) for text in calls]
        model_dir = served_model_dir(data_dir)
        predictor = registry.load_conversation_predictor(model_dir)
        for text in calls[:WARM_UP_CALLS]:
            predictor.predict([text])
        in_process = []
        for text in calls:
            began = time.perf_counter()
            predictor.predict([text])
            in_process.append(time.perf_counter() - began)

    p50 = statistics.median(seen) * 1000
    in_process_p50 = statistics.median(in_process) * 1000
    http_entry = {
        "system": f"lexicraft ({trained['result']['trainingConfigVersion']})",
        "calls": len(seen),
        "p50_ms": round(p50, 2),
        "p95_ms": round(percentile(seen, 0.95) * 1000, 2),
        "p99_ms": round(percentile(seen, 0.99) * 1000, 2),
        "in_process_p50_ms": round(in_process_p50, 2),
        "http_over_in_process": round(p50 / in_process_p50, 2),
        "train_s_through_server": round(train_s, 1),
        "measured_at": now_iso(),
        "revision": git_revision(),
        "machine": machine_info().get("cpu"),
        "command": command_line(),
    }
    results = load_results(arguments.output)
    results["http"] = http_entry
    save_results(arguments.output, results)
    write_markdown(arguments.output.with_suffix(".md"), results)
    print(http_entry, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
