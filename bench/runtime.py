"""Runtime serving benchmark: analyze jobs over HTTP beside in-process prediction of the same model.

Starts ``lexicraft serve`` as a subprocess over a temporary data dir, deploys the demo NER
project through the authoring API, then measures, in one run:

- ``inprocess_docs_per_s``: the deployed model loaded in this process, predicting the same
  25-document batches the jobs carry (the ceiling for the HTTP path);
- ``http_docs_per_s``: 25-document jobs submitted by two client threads, from the first submit
  until every job's results are in hand (see :func:`http_throughput`);
- ``p50/p95_ms_1doc`` and ``p50/p95_ms_25doc``: submit -> ``succeeded`` visible, one job at a
  time, polling every 2 ms.

Writes ``bench/results/runtime.json`` and a Markdown table ``bench/results/runtime.md``.
Usage: ``python bench/runtime.py [--jobs 96] [--submitters 2] [--latency-jobs 200]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from lexicraft.ml import registry

RESULTS = Path(__file__).resolve().parent / "results"
KEY = "bench-key-0123456789"
API = {"api-version": "2023-04-01"}
PROJECT = "bench-ner"
DEPLOYMENT = "production"
AUTHORING = "/language/authoring/analyze-text/projects"
JOBS = "/language/analyze-text/jobs"
JOB_SIZE = 25


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """``lexicraft serve`` in a subprocess; yields its base URL."""
    port = free_port()
    env = {**os.environ, "LEXICRAFT_API_KEY": KEY}
    command = [
        str(Path(sys.executable).with_name("lexicraft")), "serve", "--host", "127.0.0.1",
        "--port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {process.stderr.read().decode()}")  # type: ignore[union-attr]
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
    """Import, train and deploy the demo NER project; returns its texts."""
    project = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
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
    return [document["text"] for document in project["assets"]["documents"]]


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


def run_job(http: httpx.Client, texts: list[str], poll_s: float) -> float:
    """Submit one job and wait for it; returns its latency in seconds."""
    started = time.perf_counter()
    response = http.post(JOBS, params=API, json=job_body(texts))
    if response.status_code != 202:
        raise RuntimeError(response.text)
    body = wait(http, response.headers["Operation-Location"], poll_s)
    elapsed = time.perf_counter() - started
    documents = body["tasks"]["items"][0]["results"]["documents"]
    if len(documents) != len(texts):
        raise RuntimeError(f"{len(documents)} results for {len(texts)} documents")
    return elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latencies(base_url: str, chunks: list[list[str]], jobs: int) -> list[float]:
    with client(base_url) as http:
        return [run_job(http, chunks[index % len(chunks)], 0.002) for index in range(jobs)]


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
    """Documents per second predicting the jobs' batches in this process (best of 3 passes)."""
    best = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for chunk in chunks:
            predict(chunk)
        best = max(best, sum(map(len, chunks)) / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=96, help="25-document jobs for throughput")
    parser.add_argument("--submitters", type=int, default=2, help="client threads submitting")
    parser.add_argument("--latency-jobs", type=int, default=200, help="1-document jobs")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lexicraft-bench-") as temporary:
        data_dir = Path(temporary)
        with serve(data_dir) as base_url:
            with client(base_url) as http:
                texts = deploy_demo(http)
            chunks = [texts[start : start + JOB_SIZE] for start in range(0, len(texts), JOB_SIZE)]
            (model_dir,) = (data_dir / "models" / PROJECT).glob("m1-*")
            predictor = registry.load_ner_predictor(model_dir)
            backend_name = registry.read_backend_name(model_dir)
            before = inprocess_throughput(predictor.predict, chunks)

            latencies(base_url, chunks, 10)  # warm-up: model load, connections
            one = latencies(base_url, [[text] for text in texts], arguments.latency_jobs)
            many = latencies(base_url, chunks, max(24, arguments.latency_jobs // 4))
            http_rate = http_throughput(base_url, chunks, arguments.jobs, arguments.submitters)
            one_rate = http_throughput(
                base_url, [[text] for text in texts], arguments.latency_jobs, arguments.submitters
            )
            after = inprocess_throughput(predictor.predict, chunks)
            # Measured before and after the HTTP runs; the higher one makes the ratio honest.
            inprocess = max(before, after)

    mean_length = sum(map(len, texts)) / len(texts)
    results = {
        "http_docs_per_s": round(http_rate, 1),
        "inprocess_docs_per_s": round(inprocess, 1),
        "p50_ms_1doc": round(statistics.median(one) * 1000, 1),
        "p95_ms_1doc": round(percentile(one, 0.95) * 1000, 1),
        "p50_ms_25doc": round(statistics.median(many) * 1000, 1),
        "p95_ms_25doc": round(percentile(many, 0.95) * 1000, 1),
        "http_docs_per_s_1doc_jobs": round(one_rate, 1),
        "http_share_of_inprocess": round(http_rate / inprocess, 3),
        "setup": {
            "model": f"demo-ner, {backend_name} (trainingConfigVersion 2022-05-01)",
            "documents": f"{len(texts)} demo texts, mean {mean_length:.0f} characters",
            "jobs": arguments.jobs,
            "submitters": arguments.submitters,
            "inprocess_docs_per_s_before_after": [round(before, 1), round(after, 1)],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "runtime.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    rows = [
        ("in-process docs/s (same model, 25-doc batches)", results["inprocess_docs_per_s"]),
        (
            f"HTTP docs/s, 25-doc jobs ({arguments.submitters} submitters)",
            results["http_docs_per_s"],
        ),
        ("HTTP share of in-process", f"{results['http_share_of_inprocess']:.0%}"),
        (
            f"HTTP docs/s, 1-doc jobs ({arguments.submitters} submitters)",
            results["http_docs_per_s_1doc_jobs"],
        ),
        (
            "1-doc job latency p50 / p95 (ms)",
            f"{results['p50_ms_1doc']} / {results['p95_ms_1doc']}",
        ),
        (
            "25-doc job latency p50 / p95 (ms)",
            f"{results['p50_ms_25doc']} / {results['p95_ms_25doc']}",
        ),
    ]
    table = "\n".join(["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    (RESULTS / "runtime.md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
