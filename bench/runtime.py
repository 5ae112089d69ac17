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

- ``http_concurrency``: ``--clients`` (1, 4, 16) clients at once, each running
  ``--client-jobs`` jobs one after the other (submit, poll every ``--poll-ms``), with
  1-document and with 25-document jobs: docs/s and the jobs' p50/p95/p99 latency. The server
  runs ``--worker-threads`` (16) analyze threads and as many jobs per key, so 16 clients' jobs
  run at once and the server batches them (ml/batching.py);
- ``serving`` (bench/serving_speed.py, measured first, with no server running): the default
  NER model trained on conll2003 and the default classifier on banking77, each run as PyTorch
  fp32 / int8 and ONNX Runtime fp32 / int8 on ``--eval-documents`` test documents: words (and
  word pieces) per second and per core, docs/s, F1 / accuracy, the serving path a deploy would
  pick, model load time and resident MiB per loaded model; and the fp32 GEMM peak of the
  serving thread settings.

Top-level ratios (issue 24): ``ner_speedup_vs_baseline`` (the NER serving path's words/s over
PyTorch fp32's), ``ner_share_of_gemm_peak`` (its useful FLOP/s, ``FLOP_PER_PIECE`` per word piece
read, over the GEMM peak), ``classify_speedup_vs_baseline`` (banking77 docs/s, serving path over
PyTorch fp32), ``http_1doc_p50_over_inprocess`` (1 client's 1-document job p50 over the
in-process time to predict one document) and ``http_16_clients_share_of_inprocess`` (16 clients'
1-document jobs, docs/s over in-process 25-document batches).

Writes ``bench/results/runtime.json`` and a Markdown table ``bench/results/runtime.md``
(``--results-dir`` elsewhere).
Usage: ``python bench/runtime.py [--rounds 5] [--jobs 32] [--submitters 2] [--latency-jobs 200]
[--poll-ms 10] [--clients 1,4,16] [--client-jobs 40] [--worker-threads 16] [--eval-documents
1000] [--work-dir W] [--data-dir D]`` (``--data-dir`` keeps the trained demo model between runs,
``--work-dir`` the conll2003 / banking77 models; ``--train-documents N --train-steps S`` train
small models, for smoke runs only).
"""

from __future__ import annotations

import argparse
import json
import os
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
from common import machine_info

from lexicraft.ml import registry
from lexicraft.ml.serving import SERVING_FILE, SERVING_INT8_FILE

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
def serve(
    data_dir: Path, source: Path | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """``lexicraft serve`` in a subprocess (running the code in ``source``, if given, with
    ``extra_env`` added to its environment); yields its base URL."""
    port = free_port()
    env = {**os.environ, **NO_RATE_LIMITS_ENV, "LEXICRAFT_API_KEY": KEY, **(extra_env or {})}
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


def concurrent_clients(
    base_url: str, chunks: list[list[str]], clients: int, jobs_per_client: int, poll_s: float
) -> dict[str, float]:
    """``clients`` clients each running ``jobs_per_client`` jobs one after the other (submit,
    poll every ``poll_s`` until it is done): documents per second from the first submit to the
    last result, and the jobs' latency percentiles (ms)."""
    seen: list[float] = []
    documents = [0]
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(offset: int) -> None:
        try:
            with client(base_url) as http:
                for number in range(jobs_per_client):
                    texts = chunks[(offset * jobs_per_client + number) % len(chunks)]
                    elapsed, _server = run_job(http, texts, poll_s)
                    with lock:
                        seen.append(elapsed)
                        documents[0] += len(texts)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run, args=(offset,)) for offset in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    elapsed = time.perf_counter() - started
    return {
        "docs_per_s": round(documents[0] / elapsed, 1),
        "p50_ms": round(statistics.median(seen) * 1000, 1),
        "p95_ms": round(percentile(seen, 0.95) * 1000, 1),
        "p99_ms": round(percentile(seen, 0.99) * 1000, 1),
        "jobs": len(seen),
    }


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


def serving_rows(results: dict[str, Any]) -> list[tuple[str, object]]:
    """Markdown rows of the serving figures."""
    speed = results["serving"]
    rows: list[tuple[str, object]] = []
    for task, unit, metric in (("ner", "words", "f1"), ("classify", "docs", "accuracy")):
        entry = speed[task]
        for variant, figures in entry["variants"].items():
            per_core = figures["words_per_s_per_core"] if unit == "words" else None
            rows.append(
                (
                    f"{task} {variant}: {unit}/s (per core) / {metric}",
                    f"{figures[f'{unit}_per_s']}"
                    + (f" ({per_core})" if per_core is not None else "")
                    + f" / {figures[metric]}",
                )
            )
        rows.append((f"{task} serving path", entry["serving_path"]))
        rows.append(
            (
                f"{task} model load s / RSS MiB per loaded model",
                f"{entry['load']['load_s']} / {entry['load']['rss_mb_per_model']}",
            )
        )
    rows.append(
        ("fp32 GEMM peak (GFLOP/s, 384x1536, serving threads)", speed["gemm"]["gflop_per_s"])
    )
    for name, figures in results["http_concurrency"].items():
        rows.append(
            (
                f"HTTP {name.replace('_', ' ')}: docs/s, p50/p95/p99 ms",
                f"{figures['docs_per_s']}, {figures['p50_ms']}/{figures['p95_ms']}/"
                f"{figures['p99_ms']}",
            )
        )
    for key, value in results.items():
        if key.endswith(("_vs_baseline", "_of_gemm_peak", "_over_inprocess")) or (
            key.startswith("http_") and key.endswith("_clients_share_of_inprocess")
        ):
            rows.append((key, value))
    return rows


def serving_ratios(
    speed: dict[str, Any],
    concurrency: dict[str, dict[str, float]],
    inprocess_docs_per_s: float,
    alone_s: list[float],
    client_counts: list[int],
) -> dict[str, Any]:
    """The issue's top-level ratios (see the module docstring)."""
    from serving_speed import FLOP_PER_PIECE

    ner, classify = speed["ner"], speed["classify"]
    ner_path = ner["variants"][ner["serving_path"]]
    classify_path = classify["variants"][classify["serving_path"]]
    useful_flop_s = ner_path["pieces_per_s"] * FLOP_PER_PIECE
    most = max(client_counts)
    one_client = concurrency.get("1doc_1_clients")
    return {
        "ner_speedup_vs_baseline": round(
            ner_path["words_per_s"] / ner["variants"]["pytorch-fp32"]["words_per_s"], 3
        ),
        "ner_share_of_gemm_peak": round(useful_flop_s / (speed["gemm"]["gflop_per_s"] * 1e9), 3),
        "classify_speedup_vs_baseline": round(
            classify_path["docs_per_s"] / classify["variants"]["pytorch-fp32"]["docs_per_s"], 3
        ),
        "http_1doc_p50_over_inprocess": None
        if one_client is None
        else round(one_client["p50_ms"] / (statistics.median(alone_s) * 1000), 3),
        f"http_{most}_clients_share_of_inprocess": round(
            concurrency[f"1doc_{most}_clients"]["docs_per_s"] / inprocess_docs_per_s, 3
        ),
        "ner_serving_path": ner["serving_path"],
        "classify_serving_path": classify["serving_path"],
    }


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
    parser.add_argument(
        "--clients", default="1,4,16", help="concurrent HTTP clients to measure (comma-separated)"
    )
    parser.add_argument(
        "--client-jobs", type=int, default=40, help="jobs each concurrent client runs"
    )
    parser.add_argument(
        "--worker-threads",
        type=int,
        default=16,
        help="the server's analyze threads and jobs per key (so 16 clients' jobs run at once)",
    )
    # In-process serving speed and accuracy (bench/serving_speed.py).
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "lexicraft-bench-serving",
        help="where the conll2003 / banking77 models are trained and kept for reuse",
    )
    parser.add_argument("--train-documents", type=int, help="smoke runs: train on N documents")
    parser.add_argument("--train-steps", type=int, help="smoke runs: train exactly N steps")
    parser.add_argument(
        "--eval-documents", type=int, default=1000, help="test documents per dataset"
    )
    parser.add_argument("--batch", type=int, default=32, help="in-process batch (documents)")
    parser.add_argument("--passes", type=int, default=2, help="timed passes (best counts)")
    parser.add_argument("--gemm-rows", type=int, default=512, help="rows of the GEMM peak")
    parser.add_argument("--gemm-seconds", type=float, default=5.0, help="GEMM loop length")
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS, help="where runtime.json/.md go (smoke runs)"
    )
    arguments = parser.parse_args()
    client_counts = [int(value) for value in arguments.clients.split(",")]

    # First, alone in the process: the models' speed and accuracy (no server running).
    # Imported here: other benches import this module for its HTTP helpers, without PyTorch.
    from serving_speed import measure_all

    speed = measure_all(arguments)

    with tempfile.TemporaryDirectory(prefix="lexicraft-bench-") as temporary:
        data_dir = arguments.data_dir or Path(temporary)
        workers = str(arguments.worker_threads)
        server_env = {
            "LEXICRAFT_WORKER_THREADS": workers,
            "LEXICRAFT_WORKER_JOBS_PER_KEY": workers,
        }
        with serve(data_dir, extra_env=server_env) as base_url:
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
            shutil.copytree(
                model_dir,
                pytorch_dir,
                ignore=shutil.ignore_patterns(SERVING_FILE, SERVING_INT8_FILE),
            )
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
            concurrency: dict[str, dict[str, float]] = {}
            for size, job_chunks in (("1doc", [[text] for text in texts]), ("25doc", chunks)):
                for clients in client_counts:
                    concurrency[f"{size}_{clients}_clients"] = concurrent_clients(
                        base_url, job_chunks, clients, arguments.client_jobs, poll_s
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
        **serving_ratios(speed, concurrency, inprocess, alone, client_counts),
        "http_concurrency": concurrency,
        "serving": speed,
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
            # This kind of machine changes from day to day (its GEMM peak by 4x): the
            # ratios compare within one run, and the CPU says which machine ran it.
            "machine": machine_info(),
            "server_worker_threads": arguments.worker_threads,
            "client_jobs": arguments.client_jobs,
            "serving_threads": speed["ner"]["threads"],
            "command": "python bench/runtime.py " + " ".join(sys.argv[1:]),
        },
    }
    output: Path = arguments.results_dir
    output.mkdir(parents=True, exist_ok=True)
    previous = output / "runtime.json"
    if previous.is_file():
        # bench/memory.py's figures live here too (scripts outside read one file); keep them.
        kept = json.loads(previous.read_text(encoding="utf-8"))
        results.update({key: kept[key] for key in MEMORY_KEYS if key in kept})
    (output / "runtime.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
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
    rows += serving_rows(results)
    machine = results["setup"]["machine"]
    rows.append(("machine", f"{machine['cpu']}, {machine['usable_cpus']} usable CPUs"))
    table = "\n".join(["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    (output / "runtime.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
