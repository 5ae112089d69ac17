"""Runtime serving benchmark: analyze jobs over HTTP beside in-process prediction of the same model.

Starts ``lexicraft serve`` as a subprocess over a temporary data dir, deploys the demo NER
project through the authoring API, then measures, in one run:

- ``inprocess_docs_per_s``: the deployed model loaded in this process, predicting the same
  25-document batches the jobs carry (the ceiling for the HTTP path);
- ``http_docs_per_s``: 25-document jobs submitted by two client threads, from the first submit
  until every job's results are in hand (see :func:`http_throughput`).
  The two alternate in ``--rounds`` rounds and each figure is the median of its rounds: this
  kind of machine's speed drifts by tens of percent within minutes, and alternating lets the
  drift hit both sides alike;
- ``p50/p95_ms_1doc`` and ``p50/p95_ms_25doc``: submit -> ``succeeded`` visible, one job at a
  time, the client polling every ``--poll-ms`` (10 ms; much tighter polling is itself a load
  that slows a 2-core server), and beside it the server's own ``createdDateTime`` ->
  ``lastUpdatedDateTime`` of the same jobs (``server_p50_ms_*``) and the in-process time to
  predict one document alone (``inprocess_p50_ms_1doc``, the floor under a 1-document job),
  also with the model in PyTorch rather than the ONNX Runtime a deployed model is served by on
  a CPU (``inprocess_p50_ms_1doc_pytorch``).

Writes ``bench/results/runtime.json`` and a Markdown table ``bench/results/runtime.md``.
Usage: ``python bench/runtime.py [--rounds 5] [--jobs 32] [--submitters 2] [--latency-jobs 200]
[--poll-ms 10] [--data-dir D]``
(``--data-dir`` keeps the trained demo model between runs, for comparing server changes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from lexicraft.ml import registry
from lexicraft.ml.onnx_serving import SERVING_FILE

RESULTS = Path(__file__).resolve().parent / "results"
KEY = "bench-key-0123456789"
#: The benches' servers run without rate limits (an empty budget is none): one key polls
#: jobs far faster than the defaults allow, and the limits are not what is measured.
NO_RATE_LIMITS_ENV = {"LEXICRAFT_RATE_LIMIT_RUNTIME": "", "LEXICRAFT_RATE_LIMIT_AUTHORING": ""}
API = {"api-version": "2023-04-01"}
PROJECT = "bench-ner"
DEPLOYMENT = "production"
AUTHORING = "/language/authoring/analyze-text/projects"
JOBS = "/language/analyze-text/jobs"
JOB_SIZE = 25
#: The keys of runtime.json that bench/memory.py writes.
MEMORY_KEYS = ("ten_models_rss_mb", "model_budget_mb", "memory_measured_by")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(data_dir: Path, source: Path | None = None) -> Iterator[str]:
    """``lexicraft serve`` in a subprocess (running the code in ``source``, if given); yields
    its base URL."""
    port = free_port()
    env = {**os.environ, **NO_RATE_LIMITS_ENV, "LEXICRAFT_API_KEY": KEY}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    command = [
        sys.executable, "-c", "from lexicraft.cli.main import app; app()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    # The server's log goes to a file: a pipe nobody reads fills up (64 KiB of access lines)
    # and then blocks the server in the middle of a request.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"server did not start: {log.read().decode()[-4000:]}")
                time.sleep(0.1)
            yield base_url
        finally:
            process.terminate()
            process.wait(30)


def client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=60)


def wait(http: httpx.Client, location: str, poll_s: float) -> dict[str, Any]:
    while True:
        body: dict[str, Any] = http.get(location).json()
        if body["status"] in ("succeeded", "failed", "cancelled", "partiallyCompleted"):
            if body["status"] != "succeeded":
                raise RuntimeError(f"job ended {body['status']}: {body.get('errors')}")
            return body
        time.sleep(poll_s)


def run_authoring(http: httpx.Client, method: str, path: str, body: dict[str, Any]) -> None:
    response = http.request(method, f"{AUTHORING}{path}", params=API, json=body)
    response.raise_for_status()
    wait(http, response.headers["Operation-Location"], 0.05)


def deploy_demo(http: httpx.Client) -> list[str]:
    """Import, train and deploy the demo NER project unless it is deployed; returns its texts."""
    project = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
    texts = [document["text"] for document in project["assets"]["documents"]]
    deployed = http.get(f"{AUTHORING}/{PROJECT}/deployments/{DEPLOYMENT}", params=API)
    if deployed.status_code == 200:
        return texts
    project["metadata"]["projectName"] = PROJECT
    project["metadata"]["storageInputContainerName"] = PROJECT
    run_authoring(http, "POST", f"/{PROJECT}/:import", project)
    run_authoring(
        http,
        "POST",
        f"/{PROJECT}/:train",
        {
            "modelLabel": "m1",
            "trainingConfigVersion": "2022-05-01",
            "evaluationOptions": {"kind": "manual"},
        },
    )
    run_authoring(http, "PUT", f"/{PROJECT}/deployments/{DEPLOYMENT}", {"trainedModelLabel": "m1"})
    return texts


def job_body(texts: list[str]) -> dict[str, Any]:
    return {
        "analysisInput": {
            "documents": [
                {"id": str(index), "language": "en", "text": text}
                for index, text in enumerate(texts)
            ]
        },
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "taskName": "ner",
                "parameters": {
                    "projectName": PROJECT,
                    "deploymentName": DEPLOYMENT,
                    "stringIndexType": "UnicodeCodePoint",
                },
            }
        ],
    }


def server_seconds(body: dict[str, Any]) -> float:
    """The job's ``createdDateTime`` -> ``lastUpdatedDateTime`` (millisecond stamps)."""
    created, updated = (
        datetime.fromisoformat(body[key].replace("Z", "+00:00"))
        for key in ("createdDateTime", "lastUpdatedDateTime")
    )
    return (updated - created).total_seconds()


def run_job(http: httpx.Client, texts: list[str], poll_s: float) -> tuple[float, float]:
    """Submit one job and wait for it; returns its latency and its server-side time (s)."""
    started = time.perf_counter()
    response = http.post(JOBS, params=API, json=job_body(texts))
    if response.status_code != 202:
        raise RuntimeError(response.text)
    body = wait(http, response.headers["Operation-Location"], poll_s)
    elapsed = time.perf_counter() - started
    documents = body["tasks"]["items"][0]["results"]["documents"]
    if len(documents) != len(texts):
        raise RuntimeError(f"{len(documents)} results for {len(texts)} documents")
    return elapsed, server_seconds(body)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latencies(
    base_url: str, chunks: list[list[str]], jobs: int, poll_s: float
) -> tuple[list[float], list[float]]:
    """Client-seen and server-side seconds of ``jobs`` jobs run one at a time."""
    with client(base_url) as http:
        timings = [run_job(http, chunks[index % len(chunks)], poll_s) for index in range(jobs)]
    return [seen for seen, _ in timings], [server for _, server in timings]


def http_throughput(base_url: str, chunks: list[list[str]], jobs: int, submitters: int) -> float:
    """Documents per second for ``jobs`` 25-document jobs, submit to results in hand.

    ``submitters`` clients submit every job; one client then waits for the last job (jobs run
    in submit order) and fetches each job's results once. Clients that polled every job
    tightly would measure the polls more than the jobs: each poll costs the server about what
    predicting a few documents does.
    """
    locations: list[str] = [""] * jobs
    failures: list[BaseException] = []

    def submit(indexes: range) -> None:
        try:
            with client(base_url) as http:
                for index in indexes:
                    response = http.post(
                        JOBS, params=API, json=job_body(chunks[index % len(chunks)])
                    )
                    response.raise_for_status()
                    locations[index] = response.headers["Operation-Location"]
        except BaseException as error:
            failures.append(error)

    started = time.perf_counter()
    threads = [
        threading.Thread(target=submit, args=(range(offset, jobs, submitters),))
        for offset in range(submitters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    documents = 0
    with client(base_url) as http:
        wait(http, locations[-1], 0.05)
        for location in locations:
            body = wait(http, location, 0.01)
            documents += len(body["tasks"]["items"][0]["results"]["documents"])
    elapsed = time.perf_counter() - started
    return documents / elapsed


def inprocess_throughput(predict: Callable[[list[str]], object], chunks: list[list[str]]) -> float:
    """Documents per second predicting the jobs' batches once in this process."""
    started = time.perf_counter()
    for chunk in chunks:
        predict(chunk)
    return sum(map(len, chunks)) / (time.perf_counter() - started)


def inprocess_latency(predict: Callable[[list[str]], object], texts: list[str]) -> list[float]:
    """Seconds to predict each text alone in this process (the floor under a 1-doc job)."""
    timings = []
    for text in texts:
        started = time.perf_counter()
        predict([text])
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=32, help="25-document jobs per HTTP round")
    parser.add_argument("--rounds", type=int, default=5, help="in-process / HTTP rounds")
    parser.add_argument("--submitters", type=int, default=2, help="client threads submitting")
    parser.add_argument("--latency-jobs", type=int, default=200, help="1-document jobs")
    parser.add_argument("--poll-ms", type=float, default=10.0, help="latency poll interval")
    parser.add_argument(
        "--data-dir", type=Path, help="data dir to keep (default: a temporary one, removed)"
    )
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lexicraft-bench-") as temporary:
        data_dir = arguments.data_dir or Path(temporary)
        with serve(data_dir) as base_url:
            with client(base_url) as http:
                texts = deploy_demo(http)
            chunks = [texts[start : start + JOB_SIZE] for start in range(0, len(texts), JOB_SIZE)]
            (model_dir,) = (data_dir / "models" / PROJECT).glob("m1-*")
            predictor = registry.load_ner_predictor(model_dir)
            backend_name = registry.read_backend_name(model_dir)
            predictor.predict(chunks[0])  # warm-up
            alone = inprocess_latency(predictor.predict, texts)
            # The same model without its serving copy loads in PyTorch: the baseline of the
            # ONNX Runtime that serves a deployed model on a CPU.
            pytorch_dir = Path(temporary) / "pytorch-copy"
            shutil.copytree(model_dir, pytorch_dir, ignore=shutil.ignore_patterns(SERVING_FILE))
            pytorch = registry.load_ner_predictor(pytorch_dir)
            pytorch.predict(chunks[0])  # warm-up
            alone_pytorch = inprocess_latency(pytorch.predict, texts)
            del pytorch

            poll_s = arguments.poll_ms / 1000
            latencies(base_url, chunks, 10, poll_s)  # warm-up: model load, connections
            one, one_server = latencies(
                base_url, [[text] for text in texts], arguments.latency_jobs, poll_s
            )
            many, many_server = latencies(
                base_url, chunks, max(24, arguments.latency_jobs // 4), poll_s
            )
            inprocess_rates: list[float] = []
            http_rates: list[float] = []
            for _ in range(arguments.rounds):
                inprocess_rates.append(inprocess_throughput(predictor.predict, chunks))
                http_rates.append(
                    http_throughput(base_url, chunks, arguments.jobs, arguments.submitters)
                )
            one_rate = http_throughput(
                base_url, [[text] for text in texts], arguments.latency_jobs, arguments.submitters
            )
    inprocess = statistics.median(inprocess_rates)
    http_rate = statistics.median(http_rates)

    mean_length = sum(map(len, texts)) / len(texts)
    results = {
        "http_docs_per_s": round(http_rate, 1),
        "inprocess_docs_per_s": round(inprocess, 1),
        "p50_ms_1doc": round(statistics.median(one) * 1000, 1),
        "p95_ms_1doc": round(percentile(one, 0.95) * 1000, 1),
        "p50_ms_25doc": round(statistics.median(many) * 1000, 1),
        "p95_ms_25doc": round(percentile(many, 0.95) * 1000, 1),
        "server_p50_ms_1doc": round(statistics.median(one_server) * 1000, 1),
        "inprocess_p50_ms_1doc": round(statistics.median(alone) * 1000, 1),
        "inprocess_p50_ms_1doc_pytorch": round(statistics.median(alone_pytorch) * 1000, 1),
        "server_p50_ms_25doc": round(statistics.median(many_server) * 1000, 1),
        "http_docs_per_s_1doc_jobs": round(one_rate, 1),
        "http_share_of_inprocess": round(http_rate / inprocess, 3),
        "setup": {
            "model": f"demo-ner, {backend_name} (trainingConfigVersion 2022-05-01)",
            "runtime": getattr(predictor, "runtime", "unknown"),
            "documents": f"{len(texts)} demo texts, mean {mean_length:.0f} characters",
            "jobs_per_round": arguments.jobs,
            "submitters": arguments.submitters,
            "latency_poll_ms": arguments.poll_ms,
            "rounds": arguments.rounds,
            "inprocess_docs_per_s_by_round": [round(rate, 1) for rate in inprocess_rates],
            "http_docs_per_s_by_round": [round(rate, 1) for rate in http_rates],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    previous = RESULTS / "runtime.json"
    if previous.is_file():
        # bench/memory.py's figures live here too (scripts outside read one file); keep them.
        kept = json.loads(previous.read_text(encoding="utf-8"))
        results.update({key: kept[key] for key in MEMORY_KEYS if key in kept})
    (RESULTS / "runtime.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    rows = [
        (
            "in-process docs/s (same model, 25-doc batches, median of rounds)",
            results["inprocess_docs_per_s"],
        ),
        (
            f"HTTP docs/s, 25-doc jobs ({arguments.submitters} submitters, median of rounds)",
            results["http_docs_per_s"],
        ),
        ("HTTP share of in-process", f"{results['http_share_of_inprocess']:.0%}"),
        (
            f"HTTP docs/s, 1-doc jobs ({arguments.submitters} submitters)",
            results["http_docs_per_s_1doc_jobs"],
        ),
        (
            f"1-doc job latency p50 / p95 (ms; polls every {arguments.poll_ms:g} ms)",
            f"{results['p50_ms_1doc']} / {results['p95_ms_1doc']}",
        ),
        (
            f"25-doc job latency p50 / p95 (ms; polls every {arguments.poll_ms:g} ms)",
            f"{results['p50_ms_25doc']} / {results['p95_ms_25doc']}",
        ),
        (
            f"in-process p50 predicting 1 document (ms; {results['setup']['runtime']})",
            results["inprocess_p50_ms_1doc"],
        ),
        (
            "in-process p50 predicting 1 document (ms; pytorch, same model)",
            results["inprocess_p50_ms_1doc_pytorch"],
        ),
        (
            "server-side created -> updated p50, 1-doc / 25-doc jobs (ms)",
            f"{results['server_p50_ms_1doc']} / {results['server_p50_ms_25doc']}",
        ),
    ]
    table = "\n".join(["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    (RESULTS / "runtime.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
