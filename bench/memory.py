"""Memory benchmark: a server's resident memory with 10 deployed NER models of the default config.

Two phases, each with its own ``lexicraft serve`` subprocess over one data dir:

1. *Setup* (skipped for the deployments a kept ``--data-dir`` already has): imports the demo NER
   project under ``--models`` names (``bench-mem-0`` …), each cut to its first ``--documents``
   documents, trains each with the default configuration (``2022-05-01``: the fine-tuned MiniLM
   encoder, served by ONNX Runtime) and deploys it. Every model is a real training run of its
   own, so every deployment has its own model folder; the slice only shortens the training
   (``min_steps`` still applies), it does not change the network's size.
2. *Measure*: a fresh server (so no training memory is counted) with
   ``LEXICRAFT_MODEL_MEMORY_BUDGET_MB`` = ``--budget-mb`` gets one 1-document analyze job per
   deployment, one after the other. Its resident set (``VmRSS`` of ``/proc/PID/status``) is
   read before the first job and after each; its peak is the kernel's high-water mark
   (``VmHWM``) at the end. Each model's load time is read from the server's JSON log (the
   cache logs every load), and ``/metrics`` gives the estimated loaded bytes. With
   ``--tight-budget-mb`` the same jobs run once more on a server whose budget holds only some
   of the models, to show what eviction does to the resident set.

Writes ``bench/results/memory.json`` (``ten_models_rss_mb``: the peak resident MiB of the
measured server; ``model_budget_mb``: its budget) and ``bench/results/memory.md``.
Usage: ``python bench/memory.py [--models 10] [--documents 4] [--budget-mb 2048]
[--tight-budget-mb 400] [--data-dir D]`` (``--data-dir`` keeps the trained models between runs).
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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from runtime import MEMORY_KEYS, wait

from lexicraft.ml.registry import CUSTOM_ENTITY_RECOGNITION, resolve_backend_name

RESULTS = Path(__file__).resolve().parent / "results"
KEY = "bench-key-0123456789"
#: Rate limits off: the bench polls jobs faster than a key's default budget allows.
NO_RATE_LIMITS_ENV = {"LEXICRAFT_RATE_LIMIT_RUNTIME": "", "LEXICRAFT_RATE_LIMIT_AUTHORING": ""}
API = {"api-version": "2023-04-01"}
AUTHORING = "/language/authoring/analyze-text/projects"
JOBS = "/language/analyze-text/jobs"
DEPLOYMENT = "production"
CONFIG = "2022-05-01"
TEXT = "Marcus Bell met Fran\u00e7ois Dubois in Vienna on 2024-06-01."
MIB = 1 << 20
LOAD_MESSAGE = "Loaded the model in "


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def serve(
    data_dir: Path, log: Path, env: dict[str, str], *, workers: bool = True
) -> Iterator[Server]:
    """``lexicraft serve`` in a subprocess over ``data_dir``, its log in ``log``."""
    port = free_port()
    command = [
        sys.executable, "-c", "from lexicraft.cli.main import app; app()", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
    ]  # fmt: skip
    if not workers:
        command.append("--no-workers")
    full_env = {**os.environ, **NO_RATE_LIMITS_ENV, "LEXICRAFT_API_KEY": KEY, **env}
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base_url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield Server(base_url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def client(base_url: str) -> httpx.Client:
    # Generous timeouts: on a 2-core machine a training can hold a poll for a while.
    return httpx.Client(base_url=base_url, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=300)


def run_authoring(http: httpx.Client, method: str, path: str, body: dict[str, Any]) -> None:
    response = http.request(method, f"{AUTHORING}{path}", params=API, json=body)
    response.raise_for_status()
    wait(http, response.headers["Operation-Location"], 0.5)


def deploy(http: httpx.Client, project: str, documents: int) -> bool:
    """Import, train (default config) and deploy ``project`` unless it is deployed; True when
    it was trained now."""
    if http.get(f"{AUTHORING}/{project}/deployments/{DEPLOYMENT}", params=API).status_code == 200:
        return False
    data = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
    data["metadata"]["projectName"] = project
    data["metadata"]["storageInputContainerName"] = project
    kept = data["assets"]["documents"][:documents]
    # Keep a test document: a manual split needs one in each set.
    if not any(document.get("dataset") == "Test" for document in kept):
        kept[-1]["dataset"] = "Test"
    data["assets"]["documents"] = kept
    run_authoring(http, "POST", f"/{project}/:import", data)
    run_authoring(
        http,
        "POST",
        f"/{project}/:train",
        {
            "modelLabel": "m1",
            "trainingConfigVersion": CONFIG,
            "evaluationOptions": {"kind": "manual"},
        },
    )
    run_authoring(http, "PUT", f"/{project}/deployments/{DEPLOYMENT}", {"trainedModelLabel": "m1"})
    return True


def deployed(data_dir: Path, projects: list[str]) -> list[str]:
    """Those of ``projects`` that ``data_dir`` has deployed (asked of a server without workers)."""
    with (
        serve(data_dir, data_dir.parent / "deployed.log", {}, workers=False) as server,
        client(server.base_url) as http,
    ):
        return [
            project
            for project in projects
            if http.get(f"{AUTHORING}/{project}/deployments/{DEPLOYMENT}", params=API).status_code
            == 200
        ]


def status_kib(pid: int, field_name: str) -> int:
    """A ``kB`` field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``), in KiB."""
    with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field_name}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field_name} for process {pid}")


def metrics(base_url: str) -> dict[str, float]:
    text = httpx.get(f"{base_url}/metrics", timeout=60).text
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels
    }


def load_seconds(log: Path) -> list[float]:
    """The load times the server's cache logged (``LEXICRAFT_LOG_FORMAT=json``)."""
    seconds = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        message = record.get("message", "") if isinstance(record, dict) else ""
        if message.startswith(LOAD_MESSAGE):
            seconds.append(float(message.split(" in ")[2].split(" s ")[0]))
    return seconds


@dataclass
class Run:
    """What one measured server did with one job per deployment."""

    budget_mb: float
    baseline_mib: float = 0.0
    after_each_mib: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    load_s: list[float] = field(default_factory=list)
    loaded_mib_estimate: float = 0.0
    loads: float = 0.0
    evictions: float = 0.0


def measure(data_dir: Path, projects: list[str], budget_mb: float, log: Path) -> Run:
    env = {"LEXICRAFT_MODEL_MEMORY_BUDGET_MB": str(budget_mb), "LEXICRAFT_LOG_FORMAT": "json"}
    # The count never binds before the budget here: the budget is what is measured.
    env["LEXICRAFT_LOADED_MODELS_PER_PROCESS"] = str(max(16, len(projects)))
    run = Run(budget_mb)
    with serve(data_dir, log, env) as server, client(server.base_url) as http:
        pid = server.process.pid
        time.sleep(2)  # let start-up work (the sweep, the workers' first polls) settle
        run.baseline_mib = status_kib(pid, "VmRSS") / 1024
        for project in projects:
            body = {
                "analysisInput": {"documents": [{"id": "1", "language": "en", "text": TEXT}]},
                "tasks": [
                    {
                        "kind": "CustomEntityRecognition",
                        "parameters": {"projectName": project, "deploymentName": DEPLOYMENT},
                    }
                ],
            }
            response = http.post(JOBS, params=API, json=body)
            response.raise_for_status()
            wait(http, response.headers["Operation-Location"], 0.05)
            run.after_each_mib.append(status_kib(pid, "VmRSS") / 1024)
        run.peak_mib = status_kib(pid, "VmHWM") / 1024
        samples = metrics(server.base_url)
        run.loaded_mib_estimate = samples.get("lexicraft_model_loaded_bytes", 0.0) / MIB
        run.loads = samples.get("lexicraft_model_cache_loads_total", 0.0)
        run.evictions = samples.get("lexicraft_model_cache_evictions_total", 0.0)
    run.load_s = load_seconds(log)
    return run


def share_with_runtime(results: dict[str, Any]) -> None:
    """Copy the two figures issue 24 names into runtime.json's top level, where scripts outside
    the repository read every serving figure (its other keys stay as bench/runtime.py wrote
    them)."""
    path = RESULTS / "runtime.json"
    runtime = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    figures = {**results, "memory_measured_by": "bench/memory.py (see memory.json)"}
    runtime.update({key: figures[key] for key in MEMORY_KEYS})
    path.write_text(json.dumps(runtime, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10, help="deployments of the default NER")
    parser.add_argument("--documents", type=int, default=4, help="demo documents each trains on")
    parser.add_argument("--budget-mb", type=float, default=2048, help="the measured budget (MiB)")
    parser.add_argument(
        "--tight-budget-mb", type=float, default=400, help="a second run's budget; 0: no run"
    )
    parser.add_argument("--data-dir", type=Path, help="data dir to keep (default: temporary)")
    parser.add_argument(
        "--setup-only", action="store_true", help="train and deploy (into --data-dir), no measure"
    )
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="no setup: measure the deployments --data-dir has (at most --models)",
    )
    arguments = parser.parse_args()

    projects = [f"bench-mem-{index}" for index in range(arguments.models)]
    with tempfile.TemporaryDirectory(prefix="lexicraft-bench-memory-") as temporary:
        data_dir = arguments.data_dir or Path(temporary) / "data"
        logs = Path(temporary)
        started = time.perf_counter()
        trained = 0
        if arguments.measure_only:
            if arguments.data_dir is None:
                parser.error("--measure-only needs --data-dir")
            projects = deployed(data_dir, projects)
        else:
            with (
                serve(data_dir, logs / "setup.log", {}) as server,
                client(server.base_url) as http,
            ):
                for project in projects:
                    trained += deploy(http, project, arguments.documents)
                    print(f"{project} deployed ({time.perf_counter() - started:.0f} s)", flush=True)
        setup_s = time.perf_counter() - started
        print(f"setup: {trained} models trained and deployed in {setup_s:.0f} s", flush=True)
        if arguments.setup_only:
            return
        model_files_mib = [
            sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / MIB
            for project in projects
            for folder in sorted((data_dir / "models" / project).glob("m1-*"))
        ]
        main_run = measure(data_dir, projects, arguments.budget_mb, logs / "measure.log")
        tight = None
        if arguments.tight_budget_mb:
            tight = measure(data_dir, projects, arguments.tight_budget_mb, logs / "tight.log")

    increments = [
        after - before
        for before, after in zip(
            [main_run.baseline_mib, *main_run.after_each_mib[:-1]],
            main_run.after_each_mib,
            strict=True,
        )
    ]
    models_mib = main_run.after_each_mib[-1] - main_run.baseline_mib
    others = statistics.median(increments[1:]) if len(increments) > 1 else increments[0]
    measured = len(projects)
    results: dict[str, Any] = {
        # Measured only with 10 (or more) deployments; fewer (a setup cut short) leave it
        # null and give the extrapolation from the models measured beside it.
        "ten_models_rss_mb": round(main_run.peak_mib, 1) if measured >= 10 else None,
        "model_budget_mb": arguments.budget_mb,
        "models_measured": measured,
        "peak_rss_mb": round(main_run.peak_mib, 1),
        "ten_models_rss_mb_extrapolated": None
        if measured >= 10
        else round(main_run.after_each_mib[-1] + (10 - measured) * others, 1),
        "models_loaded": int(main_run.loads),
        "models_rss_over_baseline_mb": round(models_mib, 1),
        "rss_per_loaded_model_mb": round(models_mib / max(1, len(projects)), 1),
        "rss_per_model_after_the_first_mb": round(others, 1),
        "first_model_rss_mb": round(increments[0], 1),
        "baseline_rss_mb": round(main_run.baseline_mib, 1),
        "estimated_loaded_mb": round(main_run.loaded_mib_estimate, 1),
        "model_load_p50_s": round(statistics.median(main_run.load_s), 3)
        if main_run.load_s
        else None,
        "model_load_max_s": round(max(main_run.load_s), 3) if main_run.load_s else None,
        "evictions": int(main_run.evictions),
        "within_budget": models_mib <= arguments.budget_mb,
        "setup": {
            "models": f"{measured} demo-ner projects, each trained on its first "
            f"{arguments.documents} documents with trainingConfigVersion {CONFIG} "
            f"({resolve_backend_name(CONFIG, CUSTOM_ENTITY_RECOGNITION)}, served by ONNX Runtime)",
            "model_folder_mib": [round(size, 1) for size in model_files_mib],
            "rss_after_each_job_mb": [round(value, 1) for value in main_run.after_each_mib],
            "load_s": [round(value, 3) for value in main_run.load_s],
            "trained_now": trained,
            "setup_s": round(setup_s),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
    }
    if tight is not None:
        results["tight_budget"] = {
            "model_budget_mb": tight.budget_mb,
            "peak_rss_mb": round(tight.peak_mib, 1),
            "rss_over_baseline_after_last_job_mb": round(
                tight.after_each_mib[-1] - tight.baseline_mib, 1
            ),
            "estimated_loaded_mb": round(tight.loaded_mib_estimate, 1),
            "loads": int(tight.loads),
            "evictions": int(tight.evictions),
            "rss_after_each_job_mb": [round(value, 1) for value in tight.after_each_mib],
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "memory.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    share_with_runtime(results)
    load_times = f"{results['model_load_p50_s']} / {results['model_load_max_s']}"
    rows: list[tuple[str, object]] = [
        (f"peak RSS of the server, {measured} models (MiB)", results["peak_rss_mb"]),
        ("model budget (MiB)", results["model_budget_mb"]),
        ("RSS before the first job (MiB)", results["baseline_rss_mb"]),
        ("RSS growth over the jobs (MiB)", results["models_rss_over_baseline_mb"]),
        ("RSS per loaded model (MiB; growth / models)", results["rss_per_loaded_model_mb"]),
        ("first model's RSS growth (MiB; runtime set-up too)", results["first_model_rss_mb"]),
        ("median RSS growth of the others (MiB)", results["rss_per_model_after_the_first_mb"]),
        ("estimated loaded MiB (lexicraft_model_loaded_bytes)", results["estimated_loaded_mb"]),
        ("model load time p50 / max (s)", load_times),
        ("models loaded / evicted", f"{results['models_loaded']} / {results['evictions']}"),
    ]
    if measured < 10:
        rows.insert(
            1,
            (
                "RSS with 10 models, extrapolated (MiB; last RSS + median growth per model)",
                results["ten_models_rss_mb_extrapolated"],
            ),
        )
    if tight is not None:
        rows.append(
            (
                f"budget {tight.budget_mb:g} MiB: peak RSS, loads / evictions",
                f"{results['tight_budget']['peak_rss_mb']} MiB, {tight.loads:g} / "
                f"{tight.evictions:g}",
            )
        )
    table = "\n".join(["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows])
    note = (
        f"{results['setup']['models']}; one 1-document job each, in turn, on a fresh "
        f"`lexicraft serve` with `LEXICRAFT_MODEL_MEMORY_BUDGET_MB={arguments.budget_mb:g}` "
        f"({os.cpu_count()} CPUs). Command: `python bench/memory.py {' '.join(sys.argv[1:])}`."
    )
    (RESULTS / "memory.md").write_text(note + "\n\n" + table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
