"""Reliability benchmark: generated requests, load, SIGKILLs and memory, against real servers.

Every phase runs ``lexicraft serve`` as a subprocess (the embedded topology of ``make serve``:
SQLite, the job workers in the API process) over a copy of one prepared data dir, in which
the demo NER and single-label projects are trained with the fast configuration and deployed.
The servers run with the per-key rate limits off (``LEXICRAFT_RATE_LIMIT_RUNTIME=""``,
``LEXICRAFT_RATE_LIMIT_AUTHORING=""``): this bench is one client sending far more than a key's
budget on purpose, and what it measures is what the server does with the requests, not how
soon it says 429.

Phases (``--phases``, all by default):

- ``fuzz``: schemathesis over the served ``/openapi.json`` (``tests/integration/schema_fuzz.py``,
  the driver the test suite uses, here with random draws): ``--fuzz-examples`` cases per
  operation and pass (documented examples, valid, invalid), every answer checked against
  the document. Counts cases, 5xx answers and failed checks.
- ``load``: ``--clients`` asyncio clients (httpx) for ``--duration-s`` seconds on loopback,
  each submitting a one-document analyze job and polling it (every ``--poll-ms``) until it
  ends, then the next. Job latency (submit → an ended state seen) p50/p99, jobs per second,
  and lost jobs (accepted with a 202 and never seen to end within ``--drain-s``).
- ``faults``: the server is SIGKILLed in each situation of ``--faults`` and started again
  on the same data dir: ``analyze`` (20 jobs of 25 documents accepted, some running),
  ``training`` (a training running), ``import`` (an ``:import`` of ``--import-documents``
  documents running), ``deploy`` (a deployment job running), ``load`` (``--fault-clients``
  clients submitting). A fault is survived when every job accepted before the kill ends
  (succeeded, cancelled, or failed with an error that says why) and every deployment
  answers an analyze job after the restart; a training or import is also checked for what
  it left (a model listed only when its training succeeded; all of an import or nothing).
- ``rss``: ``--rss-warmup-jobs`` jobs, then the server's resident memory (``/proc``), then
  ``--rss-jobs`` more jobs from ``--rss-clients`` clients; ``rss_growth_pct`` is the growth
  from after the warm-up to the end.

Writes ``bench/results/reliability.json`` (top-level ``cases``, ``server_errors``,
``lost_jobs``, ``faults_survived``, ``faults_tried``, ``p50_ms``, ``p99_ms``,
``rss_growth_pct``, then each phase's details) and ``reliability.md``. ``server_errors`` and
``lost_jobs`` add up every phase. A smoke run (every size small) writes elsewhere:

    python bench/reliability.py --fuzz-examples 2 --clients 5 --duration-s 5 \\
        --faults analyze,deploy --import-documents 300 --rss-warmup-jobs 20 --rss-jobs 200 \\
        --job-lease-s 3 --output /tmp/reliability-smoke.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
# The schema fuzzer is the integration suite's (one driver for the test and the bench).
sys.path.insert(0, str(ROOT))
from tests.integration.schema_fuzz import FuzzReport, Targets, fuzz  # noqa: E402

RESULTS = ROOT / "bench" / "results"
KEY = "bench-key-0123456789"
API = {"api-version": "2023-04-01"}
AUTHORING = "/language/authoring/analyze-text/projects"
JOBS = "/language/analyze-text/jobs"
FAST = "2022-05-01-fast"
NER = "rel-ner"
SINGLE = "rel-single"
SACRIFICE = "fuzz"
PRODUCTION = "production"
ENDED = ("succeeded", "failed", "cancelled", "partiallyCompleted", "partiallySucceeded")
PHASES = ("fuzz", "load", "faults", "rss")
FAULTS = ("analyze", "training", "import", "deploy", "load")
#: What the servers run with besides the data dir: rate limits off (see the docstring).
SERVER_ENV = {
    "LEXICRAFT_API_KEY": KEY,
    "LEXICRAFT_RATE_LIMIT_RUNTIME": "",
    "LEXICRAFT_RATE_LIMIT_AUTHORING": "",
}


# -- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``lexicraft serve`` over ``data_dir`` in a subprocess, started and killed at will.

    It runs this checkout's code (``src`` first on ``PYTHONPATH``), with its output appended
    to ``log``; every start listens on the same port.
    """

    def __init__(self, data_dir: Path, log: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.log = log
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
        self.env = {**os.environ, **SERVER_ENV, **env, "PYTHONPATH": path}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            sys.executable, "-c", "from lexicraft.cli.main import app; app()", "serve",
            "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
        ]  # fmt: skip
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 180
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"the server did not start:\n{tail}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no finished writes, as a power cut or the OOM killer."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)

    def rss_mb(self) -> float:
        """The server's resident memory now, in MiB (Linux ``/proc``)."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def tracebacks(self) -> int:
        """Tracebacks its log holds so far (a handled client error should log none)."""
        return self.log.read_text(errors="replace").count("Traceback (most recent call last)")

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=120
        )


@contextmanager
def serving(data_dir: Path, log: Path, env: dict[str, str]) -> Iterator[Server]:
    server = Server(data_dir, log, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- jobs --------------------------------------------------------------------------------------


def job_path(location: str) -> str:
    """The path and query of an ``Operation-Location`` (the server's port stays the same)."""
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


def wait_ended(http: httpx.Client, path: str, timeout_s: float) -> dict[str, Any]:
    """Poll a job until it has ended; its last state (``{"status": "lost"}`` at the timeout)."""
    deadline = time.monotonic() + timeout_s
    body: dict[str, Any] = {"status": "lost"}
    while time.monotonic() < deadline:
        with suppress(httpx.TransportError):
            response = http.get(path)
            if response.status_code == 200:
                body = response.json()
                if body["status"] in ENDED:
                    return body
        time.sleep(0.1)
    return {**body, "status": "lost"}


def run_job(http: httpx.Client, method: str, path: str, body: Any, timeout_s: float = 600) -> None:
    """A request answered 202, and its job waited for; raises unless it succeeded."""
    response = http.request(method, path, params=API, json=body)
    if response.status_code != 202:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    final = wait_ended(http, job_path(response.headers["Operation-Location"]), timeout_s)
    if final["status"] != "succeeded":
        raise RuntimeError(f"{method} {path}: job ended {final}")


def ended_with_reason(body: dict[str, Any]) -> bool:
    """Succeeded or cancelled, or failed with an error that says why."""
    status = body.get("status")
    if status in ("succeeded", "cancelled"):
        return True
    if status not in ENDED:
        return False
    errors = list(body.get("errors") or [])
    tasks = body.get("tasks")
    if isinstance(tasks, dict):
        for item in tasks.get("items") or []:
            errors += (item.get("results") or {}).get("errors") or []
    return any(
        isinstance(error, dict) and (error.get("error") or error).get("message") for error in errors
    )


def analyze_body(texts: list[str], project: str = NER) -> dict[str, Any]:
    kind = "CustomEntityRecognition" if project == NER else "CustomSingleLabelClassification"
    return {
        "analysisInput": {
            "documents": [{"id": str(i), "language": "en", "text": t} for i, t in enumerate(texts)]
        },
        "tasks": [
            {"kind": kind, "parameters": {"projectName": project, "deploymentName": PRODUCTION}}
        ],
    }


def demo_project(name: str, project_name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("lexicraft.demo").joinpath(f"data/{name}.json").read_text("utf-8")
    )
    data["metadata"]["projectName"] = project_name
    data["metadata"]["storageInputContainerName"] = project_name
    return data


def train(http: httpx.Client, project: str, label: str) -> None:
    run_job(
        http,
        "POST",
        f"{AUTHORING}/{project}/:train",
        {
            "modelLabel": label,
            "trainingConfigVersion": FAST,
            "evaluationOptions": {"kind": "manual"},
        },
    )


def prepare(data_dir: Path, log: Path, env: dict[str, str]) -> list[str]:
    """Import, train (fast) and deploy the demo projects; ``m2`` of the NER project is
    trained but not deployed (the deploy fault deploys it). Returns the demo NER texts."""
    with serving(data_dir, log, env) as server, server.client() as http:
        ner = demo_project("demo-ner", NER)
        run_job(http, "POST", f"{AUTHORING}/{NER}/:import", ner)
        run_job(
            http, "POST", f"{AUTHORING}/{SINGLE}/:import", demo_project("demo-classify", SINGLE)
        )
        for project in (NER, SINGLE):
            train(http, project, "m1")
            run_job(
                http,
                "PUT",
                f"{AUTHORING}/{project}/deployments/{PRODUCTION}",
                {"trainedModelLabel": "m1"},
            )
        train(http, NER, "m2")
    return [document["text"] for document in ner["assets"]["documents"]]


def deployments_serve(http: httpx.Client, texts: list[str], timeout_s: float) -> list[str]:
    """Every deployment of every project answers an analyze job; the ones that do not."""
    broken = []
    projects = http.get(AUTHORING, params=API).json()["value"]
    for project in projects:
        name, kind = project["projectName"], project["projectKind"]
        listed = http.get(f"{AUTHORING}/{name}/deployments", params=API)
        for deployment in listed.json()["value"] if listed.status_code == 200 else []:
            body = analyze_body(texts[:2], NER)
            task = body["tasks"][0]
            task["kind"] = kind
            task["parameters"].update(projectName=name, deploymentName=deployment["deploymentName"])
            response = http.post(JOBS, params=API, json=body)
            final = (
                wait_ended(http, job_path(response.headers["Operation-Location"]), timeout_s)
                if response.status_code == 202
                else {"status": f"HTTP {response.status_code}"}
            )
            if final["status"] != "succeeded":
                broken.append(f"{name}/{deployment['deploymentName']}: {final['status']}")
    return broken


# -- load ----------------------------------------------------------------------------------------


@dataclass
class LoadStats:
    """What the clients of a load run saw."""

    submitted: int = 0
    ended: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    server_errors: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    #: Jobs accepted (202) but not yet seen to end: path → submit time.
    pending: dict[str, float] = field(default_factory=dict)
    unexplained_failures: int = 0


async def _client_loop(
    http: httpx.AsyncClient,
    texts: list[str],
    offset: int,
    stop: Callable[[], bool],
    stats: LoadStats,
    poll_s: float,
    drain_until: Callable[[], float],
) -> None:
    index = offset
    while not stop():
        index += 1
        text = texts[index % len(texts)]
        project = NER if index % 2 else SINGLE
        started = time.perf_counter()
        try:
            response = await http.post(JOBS, params=API, json=analyze_body([text], project))
        except httpx.TransportError:
            stats.transport_errors += 1
            await asyncio.sleep(poll_s)
            continue
        if response.status_code >= 500:
            stats.server_errors += 1
        if response.status_code != 202:
            stats.refused[response.status_code] += 1
            await asyncio.sleep(poll_s)
            continue
        path = job_path(response.headers["Operation-Location"])
        stats.submitted += 1
        stats.pending[path] = started
        while time.monotonic() < drain_until():
            await asyncio.sleep(poll_s)
            try:
                polled = await http.get(path)
            except httpx.TransportError:
                stats.transport_errors += 1
                continue
            if polled.status_code >= 500:
                stats.server_errors += 1
            if polled.status_code != 200:
                continue
            body = polled.json()
            if body["status"] in ENDED:
                stats.latencies_s.append(time.perf_counter() - started)
                stats.ended[body["status"]] += 1
                if not ended_with_reason(body):
                    stats.unexplained_failures += 1
                del stats.pending[path]
                break


async def _load(
    base_url: str,
    texts: list[str],
    clients: int,
    duration_s: float,
    poll_s: float,
    drain_s: float,
    stats: LoadStats,
    stop_event: threading.Event | None = None,
) -> float:
    """``clients`` clients for ``duration_s`` (or until ``stop_event``); the seconds it ran."""
    started = time.monotonic()
    stop_at = started + duration_s
    stopped_at: list[float] = []

    def stop() -> bool:
        if not stopped_at and (
            time.monotonic() >= stop_at or (stop_event is not None and stop_event.is_set())
        ):
            stopped_at.append(time.monotonic())
        return bool(stopped_at)

    def drain_until() -> float:
        # A client may go on polling its last job for drain_s after the submitting stops.
        return (stopped_at[0] if stop() else time.monotonic()) + drain_s

    limits = httpx.Limits(max_connections=clients + 8, max_keepalive_connections=clients + 8)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Ocp-Apim-Subscription-Key": KEY},
        timeout=60,
        limits=limits,
    ) as http:
        await asyncio.gather(
            *(
                _client_loop(http, texts, i * 7, stop, stats, poll_s, drain_until)
                for i in range(clients)
            )
        )
    return time.monotonic() - started


def percentile_ms(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000, 1)


def load_phase(server: Server, texts: list[str], arguments: argparse.Namespace) -> dict[str, Any]:
    stats = LoadStats()
    seconds = asyncio.run(
        _load(
            server.base_url,
            texts,
            arguments.clients,
            arguments.duration_s,
            arguments.poll_ms / 1000,
            arguments.drain_s,
            stats,
        )
    )
    return {
        "clients": arguments.clients,
        "duration_s": arguments.duration_s,
        "submitted": stats.submitted,
        "ended": dict(stats.ended),
        "lost_jobs": len(stats.pending),
        "failed_without_reason": stats.unexplained_failures,
        "jobs_per_s": round(sum(stats.ended.values()) / seconds, 1) if seconds else None,
        "p50_ms": percentile_ms(stats.latencies_s, 0.5),
        "p99_ms": percentile_ms(stats.latencies_s, 0.99),
        "mean_ms": round(statistics.fmean(stats.latencies_s) * 1000, 1)
        if stats.latencies_s
        else None,
        "server_errors": stats.server_errors,
        "refused": {str(status): count for status, count in stats.refused.items()},
        "transport_errors": stats.transport_errors,
    }


# -- faults ----------------------------------------------------------------------------------------


@dataclass
class Fault:
    """One SIGKILL scenario's outcome."""

    name: str
    survived: bool = False
    killed_in_flight: bool = False
    accepted_jobs: int = 0
    lost_jobs: int = 0
    problems: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _until_running(http: httpx.Client, paths: list[str], timeout_s: float = 120) -> bool:
    """Poll until one of the jobs runs; False when they all ended (or none started) first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        statuses = [http.get(path).json()["status"] for path in paths]
        if "running" in statuses:
            return True
        if all(status in ENDED for status in statuses):
            return False
        time.sleep(0.005)
    return False


def _submit(http: httpx.Client, method: str, path: str, body: Any = None, **params: Any) -> str:
    response = http.request(method, path, params={**API, **params}, json=body)
    if response.status_code != 202:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
    return job_path(response.headers["Operation-Location"])


def _check_jobs(
    fault: Fault, http: httpx.Client, paths: list[str], timeout_s: float
) -> list[dict[str, Any]]:
    finals = [wait_ended(http, path, timeout_s) for path in paths]
    fault.accepted_jobs += len(paths)
    for path, final in zip(paths, finals, strict=True):
        if final["status"] == "lost":
            fault.lost_jobs += 1
            fault.problems.append(f"{path} never ended")
        elif not ended_with_reason(final):
            fault.problems.append(f"{path} ended {final['status']} without a reason")
    fault.details["statuses"] = dict(Counter(final["status"] for final in finals))
    return finals


def fault_analyze(
    server: Server, http: httpx.Client, texts: list[str], args: argparse.Namespace
) -> Fault:
    fault = Fault("analyze")
    paths = [
        _submit(
            http, "POST", JOBS, analyze_body([texts[(j * 25 + k) % len(texts)] for k in range(25)])
        )
        for j in range(20)
    ]
    fault.killed_in_flight = _until_running(http, paths)
    server.kill()
    server.start()
    _check_jobs(fault, http, paths, args.recovery_s)
    return fault


def fault_training(
    server: Server, http: httpx.Client, texts: list[str], args: argparse.Namespace
) -> Fault:
    fault = Fault("training")
    label = "killed-training"
    path = _submit(
        http,
        "POST",
        f"{AUTHORING}/{NER}/:train",
        {
            "modelLabel": label,
            "trainingConfigVersion": args.training_config,
            "evaluationOptions": {"kind": "manual"},
        },
    )
    fault.killed_in_flight = _until_running(http, [path])
    server.kill()
    server.start()
    (final,) = _check_jobs(fault, http, [path], args.recovery_s)
    model = http.get(f"{AUTHORING}/{NER}/models/{label}", params=API)
    fault.details["model_listed"] = model.status_code == 200
    if (model.status_code == 200) != (final["status"] == "succeeded"):
        fault.problems.append(
            f"training ended {final['status']}, model answers {model.status_code}"
        )
    if model.status_code == 200:
        summary = http.get(
            f"{AUTHORING}/{NER}/models/{label}/evaluation/summary-result", params=API
        )
        if summary.status_code != 200:
            fault.problems.append(f"the trained model has no evaluation ({summary.status_code})")
    return fault


def fault_import(
    server: Server, http: httpx.Client, texts: list[str], args: argparse.Namespace
) -> Fault:
    fault = Fault("import")
    name = "killed-import"
    project = demo_project("demo-ner", name)
    originals = project["assets"]["documents"]
    project["assets"]["documents"] = [
        {**originals[i % len(originals)], "location": f"doc-{i:06d}.txt"}
        for i in range(args.import_documents)
    ]
    path = _submit(http, "POST", f"{AUTHORING}/{name}/:import", project)
    fault.killed_in_flight = _until_running(http, [path])
    server.kill()
    server.start()
    (final,) = _check_jobs(fault, http, [path], args.recovery_s)
    listed = http.get(f"/language/lexicraft/projects/{name}/documents", params={"top": 1})
    total = listed.json()["counts"]["total"] if listed.status_code == 200 else 0
    fault.details["documents_after"] = total
    expected = args.import_documents if final["status"] == "succeeded" else None
    if (expected is not None and total != expected) or (
        expected is None and total not in (0, args.import_documents)
    ):
        fault.problems.append(f"import ended {final['status']} with {total} documents stored")
    return fault


def fault_deploy(
    server: Server, http: httpx.Client, texts: list[str], args: argparse.Namespace
) -> Fault:
    fault = Fault("deploy")
    deployment = "killed-deploy"
    path = _submit(
        http, "PUT", f"{AUTHORING}/{NER}/deployments/{deployment}", {"trainedModelLabel": "m2"}
    )
    fault.killed_in_flight = _until_running(http, [path])
    server.kill()
    server.start()
    (final,) = _check_jobs(fault, http, [path], args.recovery_s)
    found = http.get(f"{AUTHORING}/{NER}/deployments/{deployment}", params=API)
    fault.details["deployment_listed"] = found.status_code == 200
    if (found.status_code == 200) != (final["status"] == "succeeded"):
        fault.problems.append(
            f"deploy ended {final['status']}, deployment answers {found.status_code}"
        )
    return fault


def fault_load(
    server: Server, http: httpx.Client, texts: list[str], args: argparse.Namespace
) -> Fault:
    fault = Fault("load")
    stats = LoadStats()
    stop = threading.Event()
    runner = threading.Thread(
        target=lambda: asyncio.run(
            _load(
                server.base_url,
                texts,
                args.fault_clients,
                3600,
                args.poll_ms / 1000,
                0.0,
                stats,
                stop,
            )
        )
    )
    runner.start()
    deadline = time.monotonic() + 60
    while stats.submitted < args.fault_clients * 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    fault.killed_in_flight = bool(stats.pending)
    server.kill()
    stop.set()
    runner.join(120)
    server.start()
    # Every job the clients saw accepted and not end is polled here, on the new process.
    pending = list(stats.pending)
    fault.details["ended_before_kill"] = dict(stats.ended)
    fault.details["server_errors"] = stats.server_errors
    _check_jobs(fault, http, pending, args.recovery_s)
    fault.accepted_jobs = stats.submitted
    return fault


FAULT_RUNNERS: dict[str, Callable[[Server, httpx.Client, list[str], argparse.Namespace], Fault]] = {
    "analyze": fault_analyze,
    "training": fault_training,
    "import": fault_import,
    "deploy": fault_deploy,
    "load": fault_load,
}


def faults_phase(
    template: Path, work: Path, texts: list[str], args: argparse.Namespace, env: dict[str, str]
) -> list[Fault]:
    results = []
    for name in args.faults:
        data_dir = work / f"fault-{name}"
        shutil.copytree(template, data_dir)
        log = work / f"fault-{name}.log"
        server = Server(data_dir, log, env)
        server.start()
        try:
            with server.client() as http:
                try:
                    fault = FAULT_RUNNERS[name](server, http, texts, args)
                except (RuntimeError, httpx.HTTPError, KeyError, ValueError) as error:
                    fault = Fault(name, problems=[f"the scenario broke: {error!r}"])
                else:
                    broken = deployments_serve(http, texts, args.recovery_s)
                    if broken:
                        fault.problems.append(f"deployments that do not serve: {broken}")
        finally:
            server.stop()
        fault.details["log_tracebacks"] = server.tracebacks()
        fault.survived = not fault.problems
        print(f"fault {name}: {'survived' if fault.survived else fault.problems}", flush=True)
        results.append(fault)
    return results


# -- fuzz and memory ---------------------------------------------------------------------------


def fuzz_phase(server: Server, texts: list[str], args: argparse.Namespace) -> FuzzReport:
    with server.client() as http:
        locations = [
            _submit(http, "POST", JOBS, analyze_body(texts[:3], project))
            for project in (NER, SINGLE)
        ]
        for path in locations:
            wait_ended(http, path, args.recovery_s)

        def restore_sacrifice(_operation: str) -> None:
            http.patch(
                f"{AUTHORING}/{SACRIFICE}",
                params=API,
                json={
                    "projectKind": "CustomEntityRecognition",
                    "storageInputContainerName": SACRIFICE,
                    "language": "en",
                },
            )

        restore_sacrifice("")
        document = http.get(f"/language/lexicraft/projects/{NER}/documents").json()["value"][0]
        targets = Targets.aimed_at([NER, SINGLE], SACRIFICE, NER, document["location"])
        for path in locations:
            targets.add_job(path)
        return fuzz(
            server.base_url,
            KEY,
            targets,
            examples=args.fuzz_examples,
            derandomize=False,
            seed=args.seed,
            prepare=restore_sacrifice,
        )


def rss_phase(server: Server, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    def jobs(count: int, stats: LoadStats) -> None:
        async def run() -> None:
            remaining = [count]
            limits = httpx.Limits(max_connections=args.rss_clients + 4)
            async with httpx.AsyncClient(
                base_url=server.base_url, headers={"Ocp-Apim-Subscription-Key": KEY},
                timeout=60, limits=limits,
            ) as http:  # fmt: skip

                async def client(offset: int) -> None:
                    while remaining[0] > 0:
                        remaining[0] -= 1
                        one = LoadStats()
                        # One job from start to end (a client loop that stops after one).
                        await _client_loop(
                            http,
                            texts,
                            offset + remaining[0],
                            lambda one=one: one.submitted > 0,
                            one,
                            args.poll_ms / 1000,
                            lambda: time.monotonic() + args.drain_s,
                        )
                        stats.submitted += one.submitted
                        stats.ended.update(one.ended)
                        stats.pending.update(one.pending)
                        stats.server_errors += one.server_errors

                await asyncio.gather(*(client(i * 11) for i in range(args.rss_clients)))

        asyncio.run(run())

    warmup = LoadStats()
    jobs(args.rss_warmup_jobs, warmup)
    before = server.rss_mb()
    samples = [(0, round(before, 1))]
    measured = LoadStats()
    sampler_stop = threading.Event()

    def sample() -> None:
        while not sampler_stop.wait(5):
            samples.append((sum(measured.ended.values()), round(server.rss_mb(), 1)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    jobs(args.rss_jobs, measured)
    sampler_stop.set()
    sampler.join()
    after = server.rss_mb()
    samples.append((sum(measured.ended.values()), round(after, 1)))
    return {
        "warmup_jobs": args.rss_warmup_jobs,
        "jobs": args.rss_jobs,
        "clients": args.rss_clients,
        "rss_after_warmup_mb": round(before, 1),
        "rss_end_mb": round(after, 1),
        "rss_growth_pct": round((after - before) / before * 100, 2),
        "ended": dict(measured.ended),
        "lost_jobs": len(measured.pending) + len(warmup.pending),
        "server_errors": measured.server_errors + warmup.server_errors,
        "samples": samples,
    }


# -- the run -------------------------------------------------------------------------------------


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    env = {} if args.job_lease_s is None else {"LEXICRAFT_JOB_LEASE_S": str(args.job_lease_s)}
    template = work / "template"
    texts = prepare(template, work / "prepare.log", env)
    print("prepared", flush=True)
    results: dict[str, Any] = {}
    if "fuzz" in args.phases:
        shutil.copytree(template, work / "fuzz")
        with serving(work / "fuzz", work / "fuzz.log", env) as server:
            report = fuzz_phase(server, texts, args)
            tracebacks = server.tracebacks()
        results["fuzz"] = {
            "cases": report.cases,
            "server_errors": report.server_errors,
            "failed_checks": len(report.findings),
            "distinct_findings": [
                f"{operation} {title} (HTTP {status})"
                for operation, title, status in report.distinct_findings()
            ],
            "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
            "operations": len(report.cases_per_operation),
            "seconds": round(report.seconds, 1),
            "log_tracebacks": tracebacks,
            "examples_per_pass": args.fuzz_examples,
        }
        print(
            "fuzz",
            {k: v for k, v in results["fuzz"].items() if k != "distinct_findings"},
            flush=True,
        )
    if "load" in args.phases:
        shutil.copytree(template, work / "load")
        with serving(work / "load", work / "load.log", env) as server:
            results["load"] = load_phase(server, texts, args)
            results["load"]["log_tracebacks"] = server.tracebacks()
        print("load", results["load"], flush=True)
    if "faults" in args.phases:
        results["faults"] = [
            vars(fault) for fault in faults_phase(template, work, texts, args, env)
        ]
    if "rss" in args.phases:
        shutil.copytree(template, work / "rss")
        with serving(work / "rss", work / "rss.log", env) as server:
            results["rss"] = rss_phase(server, texts, args)
            results["rss"]["log_tracebacks"] = server.tracebacks()
        print("rss", {k: v for k, v in results["rss"].items() if k != "samples"}, flush=True)
    return results


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The top-level figures other scripts read (see the module's docstring)."""
    faults = results.get("faults", [])
    load = results.get("load", {})
    return {
        "cases": results.get("fuzz", {}).get("cases", 0),
        "server_errors": sum(
            results.get(phase, {}).get("server_errors", 0) for phase in ("fuzz", "load", "rss")
        )
        + sum(fault["details"].get("server_errors", 0) for fault in faults),
        "lost_jobs": load.get("lost_jobs", 0)
        + results.get("rss", {}).get("lost_jobs", 0)
        + sum(fault["lost_jobs"] for fault in faults),
        "faults_survived": sum(1 for fault in faults if fault["survived"]),
        "faults_tried": len(faults),
        "p50_ms": load.get("p50_ms"),
        "p99_ms": load.get("p99_ms"),
        "rss_growth_pct": results.get("rss", {}).get("rss_growth_pct"),
    }


def markdown(payload: dict[str, Any]) -> str:
    top, results, setup = payload, payload["phases"], payload["setup"]
    lines = [
        f"Reliability bench, {setup['date']} ({setup['cpus']} CPUs, Python {setup['python']}); "
        f"command: `{setup['command']}`",
        "",
        "| cases | 5xx | lost jobs | faults survived | p50 ms | p99 ms | RSS growth % |",
        "|---|---|---|---|---|---|---|",
        f"| {top['cases']} | {top['server_errors']} | {top['lost_jobs']} | "
        f"{top['faults_survived']} / {top['faults_tried']} | {top['p50_ms']} | {top['p99_ms']} | "
        f"{top['rss_growth_pct']} |",
    ]
    if "fuzz" in results:
        fuzzed = results["fuzz"]
        lines += [
            "",
            f"**Fuzz**: {fuzzed['cases']} generated cases over {fuzzed['operations']} operations "
            f"in {fuzzed['seconds']} s; {fuzzed['server_errors']} x 5xx, "
            f"{fuzzed['failed_checks']} failed checks; answers {fuzzed['statuses']}; "
            f"{fuzzed['log_tracebacks']} tracebacks in the server log.",
        ]
        lines += [f"- {finding}" for finding in fuzzed["distinct_findings"]]
    if "load" in results:
        load = results["load"]
        lines += [
            "",
            f"**Load**: {load['clients']} clients x {load['duration_s']} s: {load['submitted']} "
            f"jobs accepted, ended {load['ended']}, {load['lost_jobs']} lost, "
            f"{load['jobs_per_s']} jobs/s; p50 {load['p50_ms']} ms, p99 {load['p99_ms']} ms; "
            f"{load['server_errors']} x 5xx, refused {load['refused']}.",
        ]
    if "faults" in results:
        lines += ["", "| fault | survived | killed in flight | accepted jobs | lost | notes |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for fault in results["faults"]:
            notes = "; ".join(fault["problems"]) or json.dumps(fault["details"])
            lines.append(
                f"| {fault['name']} | {'yes' if fault['survived'] else 'no'} | "
                f"{'yes' if fault['killed_in_flight'] else 'no'} | {fault['accepted_jobs']} | "
                f"{fault['lost_jobs']} | {notes} |"
            )
    if "rss" in results:
        rss = results["rss"]
        lines += [
            "",
            f"**Memory**: after {rss['warmup_jobs']} warm-up jobs "
            f"{rss['rss_after_warmup_mb']} MiB; "
            f"after {rss['jobs']} more jobs ({rss['clients']} clients) {rss['rss_end_mb']} MiB: "
            f"{rss['rss_growth_pct']} %.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    def names(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
        def parse(value: str) -> list[str]:
            chosen = [name.strip() for name in value.split(",") if name.strip()]
            unknown = sorted(set(chosen) - set(allowed))
            if unknown:
                raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {allowed}")
            return chosen

        return parse

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--phases", type=names(PHASES), default=list(PHASES))
    parser.add_argument(
        "--fuzz-examples",
        type=int,
        default=90,
        help="cases per operation and pass (about 10,000 in all at 90)",
    )
    parser.add_argument("--seed", type=int, default=22, help="the fuzzer's random seed")
    parser.add_argument("--clients", type=int, default=50, help="load: concurrent clients")
    parser.add_argument("--duration-s", type=float, default=60.0, help="load: seconds")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="clients' job polling")
    parser.add_argument(
        "--drain-s", type=float, default=120.0, help="how long a client keeps polling its last job"
    )
    parser.add_argument("--faults", type=names(FAULTS), default=list(FAULTS))
    parser.add_argument("--fault-clients", type=int, default=30, help="the load fault's clients")
    parser.add_argument("--import-documents", type=int, default=12_000)
    parser.add_argument("--training-config", default=FAST, help="the killed training's config")
    parser.add_argument(
        "--recovery-s",
        type=float,
        default=300.0,
        help="how long an accepted job may take to end after a restart",
    )
    parser.add_argument(
        "--job-lease-s",
        type=float,
        default=None,
        help="LEXICRAFT_JOB_LEASE_S for the servers (default: theirs)",
    )
    parser.add_argument("--rss-warmup-jobs", type=int, default=500)
    parser.add_argument("--rss-jobs", type=int, default=10_000)
    parser.add_argument("--rss-clients", type=int, default=8)
    parser.add_argument("--output", type=Path, default=RESULTS / "reliability.json")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep data dirs and server logs here (default: a temporary folder)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lexicraft-reliability-") as temporary:
        work = args.work_dir or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        results = run(args, work)
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    payload = {
        **summary(results),
        "phases": results,
        "setup": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "git": git.stdout.strip() or None,
            "command": " ".join(["python bench/reliability.py", *sys.argv[1:]]),
            "server_env": SERVER_ENV
            | ({"LEXICRAFT_JOB_LEASE_S": str(args.job_lease_s)} if args.job_lease_s else {}),
            "model": f"demo projects, trainingConfigVersion {FAST}",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
    }
    payload["setup"]["server_env"]["LEXICRAFT_API_KEY"] = "(the bench's key)"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    args.output.with_suffix(".md").write_text(markdown(payload), encoding="utf-8")
    print(markdown(payload))


if __name__ == "__main__":
    main()
