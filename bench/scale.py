"""Capacity benchmark: the same analyze traffic against each deployment topology, in one run.

Topologies (each a set of real processes started here, over its own database):

- ``embedded``: ``lexicraft serve`` alone (SQLite, the job workers in the API process) — the
  default of ``make serve``;
- ``postgresql-1-worker``: ``lexicraft serve --no-workers`` + one ``lexicraft worker`` on
  PostgreSQL;
- ``postgresql-2-workers``: the same with a second worker process;
- ``ray``: ``lexicraft serve --no-workers`` + one ``lexicraft worker`` with
  ``LEXICRAFT_EXECUTOR=ray`` against a local Ray head (``ray start --head``) — training and
  predictions run in Ray.

For each one, after a warm-up, the client measures:

- ``docs_per_s``: 25-document NER jobs submitted by ``--submitters`` threads, from the first
  submit until every job's results are in hand (:func:`runtime.http_throughput`);
- ``p50_ms`` / ``p95_ms``: one 25-document job at a time, submit → ``succeeded`` seen (the
  client polls every 10 ms);
- ``jobs_per_s_1doc``: 1-document jobs the same way as ``docs_per_s`` — the figure the
  capacity model in ``docs/scaling.md`` extrapolates from;
- ``db_transactions_per_1doc_job`` (PostgreSQL only): committed transactions of the database
  (``pg_stat_database.xact_commit``) during the 1-document run, per job — the submit, the
  claim, heartbeats, the result, the client's reads, and the workers' idle polls;
- ``predicting_process_rss_mb``: resident memory of the process holding the model (the
  server, or the largest worker) after the run — what one deployment's model costs a process.

The model is the demo NER project trained with the default configuration (served by ONNX
Runtime on a CPU), trained once per database. Writes ``bench/results/scale.json`` and
``bench/results/scale.md``.

Usage: ``python bench/scale.py [--jobs 48] [--latency-jobs 30] [--one-doc-jobs 200]
[--submitters 2] [--topologies embedded,postgresql-1-worker,postgresql-2-workers,ray]
[--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]``
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
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from runtime import (
    JOB_SIZE,
    KEY,
    NO_RATE_LIMITS_ENV,
    client,
    deploy_demo,
    free_port,
    http_throughput,
    latencies,
    percentile,
)
from sqlalchemy import create_engine, make_url, text

RESULTS = Path(__file__).resolve().parent / "results"
LEXICRAFT = Path(sys.executable).with_name("lexicraft")
RAY = Path(sys.executable).with_name("ray")
TOPOLOGIES = ("embedded", "postgresql-1-worker", "postgresql-2-workers", "ray")
POLL_S = 0.01


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``lexicraft ARGS`` in the background, its output appended to ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(LEXICRAFT), *args], env=env, stdout=output, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited in 30 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


@contextmanager
def api_server(
    env: dict[str, str], log: Path, *extra: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``lexicraft serve`` on a free port; yields its base URL (once ``/health`` answers) and
    its process."""
    port = free_port()
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port), *extra], env, log)
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
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield base_url, process
    finally:
        stop(process)


@contextmanager
def workers(count: int, env: dict[str, str], log: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` ``lexicraft worker`` processes for as long as the block runs."""
    processes = [start(["worker"], env, log) for _ in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            stop(process)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database on the server of ``admin_url`` (dropped afterwards); yields its URL."""
    name = f"lexicraft_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def ray_head(work: Path) -> Iterator[str]:
    """A local Ray head node (2 CPUs, no dashboard); yields its address."""
    if not RAY.exists():
        raise RuntimeError(f"{RAY} is missing: install the project (ray is a dependency)")
    port = free_port()
    temp_dir = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    subprocess.run(
        [
            str(RAY), "start", "--head", "--num-cpus", str(os.cpu_count() or 2),
            "--include-dashboard=false", "--port", str(port), "--temp-dir", str(temp_dir),
            "--disable-usage-stats",
        ],
        check=True, stdout=(work / "ray.log").open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop", "--force"], check=False, capture_output=True)
        shutil.rmtree(temp_dir, ignore_errors=True)


def committed_transactions(database_url: str) -> int:
    """The database's ``xact_commit`` so far (statistics lag by up to a second)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))
            value = connection.execute(
                text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        return int(value)
    finally:
        engine.dispose()


def rss_mb(process: subprocess.Popen[bytes]) -> float:
    """The resident memory of ``process`` now (Linux ``/proc``), in MiB."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmRSS for process {process.pid}")


def measure(
    base_url: str,
    texts: list[str],
    arguments: argparse.Namespace,
    database_url: str | None,
    predicting: list[subprocess.Popen[bytes]],
) -> dict[str, Any]:
    """The figures of one topology (see the module's docstring); ``predicting``: the
    processes that hold the model (their memory is reported, the largest)."""
    chunks = [texts[start : start + JOB_SIZE] for start in range(0, len(texts), JOB_SIZE)]
    singles = [[text] for text in texts]
    latencies(base_url, chunks, 6, POLL_S)  # warm-up: model loads, connections
    http_throughput(base_url, singles, 20, arguments.submitters)
    seen, _ = latencies(base_url, chunks, arguments.latency_jobs, POLL_S)
    docs_per_s = http_throughput(base_url, chunks, arguments.jobs, arguments.submitters)
    before = committed_transactions(database_url) if database_url else 0
    started = time.perf_counter()
    http_throughput(base_url, singles, arguments.one_doc_jobs, arguments.submitters)
    one_doc_elapsed = time.perf_counter() - started
    figures: dict[str, Any] = {
        "docs_per_s": round(docs_per_s, 1),
        "p50_ms": round(statistics.median(seen) * 1000, 1),
        "p95_ms": round(percentile(seen, 0.95) * 1000, 1),
        "jobs_per_s_1doc": round(arguments.one_doc_jobs / one_doc_elapsed, 1),
    }
    if predicting:
        figures["predicting_process_rss_mb"] = max(rss_mb(process) for process in predicting)
    if database_url:
        time.sleep(1.5)  # the statistics collector reports committed transactions with a lag
        spent = committed_transactions(database_url) - before
        figures["db_transactions_per_1doc_job"] = round(spent / arguments.one_doc_jobs, 1)
    return figures


def run(arguments: argparse.Namespace, work: Path) -> dict[str, dict[str, Any]]:
    """Every asked-for topology, in the order of :data:`TOPOLOGIES`."""
    chosen = [name for name in TOPOLOGIES if name in arguments.topologies]
    # Default settings throughout: a worker process learns of a job submitted to another
    # process by polling the queue every job_poll_interval_s, which is part of what is measured.
    # Except the rate limits (NO_RATE_LIMITS_ENV says why).
    base_env = {**os.environ, **NO_RATE_LIMITS_ENV, "LEXICRAFT_API_KEY": KEY}
    results: dict[str, dict[str, Any]] = {}
    log = work / "processes.log"
    if "embedded" in chosen:
        env = {**base_env, "LEXICRAFT_DATA_DIR": str(work / "embedded")}
        with api_server(env, log) as (base_url, server):
            with client(base_url) as http:
                texts = deploy_demo(http)
            results["embedded"] = measure(base_url, texts, arguments, None, [server])
            print("embedded", results["embedded"], flush=True)
    shared = [name for name in chosen if name != "embedded"]
    if not shared:
        return results
    with ExitStack() as stack:
        database_url = stack.enter_context(postgres_database(arguments.postgres_url))
        env = {
            **base_env,
            "LEXICRAFT_DATA_DIR": str(work / "shared"),
            "LEXICRAFT_DATABASE_URL": database_url,
        }
        subprocess.run([str(LEXICRAFT), "migrate"], env=env, check=True, capture_output=True)
        base_url, _server = stack.enter_context(api_server(env, log, "--no-workers"))
        with workers(1, env, log) as first, client(base_url) as http:
            # Trained by a worker once; every topology on this database serves the same model.
            texts = deploy_demo(http)
            if "postgresql-1-worker" in shared:
                results["postgresql-1-worker"] = measure(
                    base_url, texts, arguments, database_url, first
                )
                print("postgresql-1-worker", results["postgresql-1-worker"], flush=True)
            if "postgresql-2-workers" in shared:
                with workers(1, env, log) as second:
                    results["postgresql-2-workers"] = measure(
                        base_url, texts, arguments, database_url, first + second
                    )
                print("postgresql-2-workers", results["postgresql-2-workers"], flush=True)
        if "ray" in shared:
            address = stack.enter_context(ray_head(work))
            ray_env = {**env, "LEXICRAFT_EXECUTOR": "ray", "LEXICRAFT_RAY_ADDRESS": address}
            # The model lives in a Ray actor's process, not in the worker: no memory figure.
            with workers(1, ray_env, log):
                results["ray"] = measure(base_url, texts, arguments, database_url, [])
            print("ray", results["ray"], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=48, help="25-document jobs (throughput)")
    parser.add_argument("--latency-jobs", type=int, default=30, help="25-doc jobs one at a time")
    parser.add_argument("--one-doc-jobs", type=int, default=200, help="1-document jobs")
    parser.add_argument("--submitters", type=int, default=2, help="client threads submitting")
    parser.add_argument(
        "--topologies",
        type=lambda value: [name.strip() for name in value.split(",") if name.strip()],
        default=list(TOPOLOGIES),
        help=f"comma-separated, of {', '.join(TOPOLOGIES)}",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "LEXICRAFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
        help="a database URL whose user may create databases",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "scale.json")
    arguments = parser.parse_args()
    unknown = sorted(set(arguments.topologies) - set(TOPOLOGIES))
    if unknown:
        parser.error(f"unknown topologies {unknown}; choose from {', '.join(TOPOLOGIES)}")

    with tempfile.TemporaryDirectory(prefix="lexicraft-scale-") as temporary:
        work = Path(temporary)
        try:
            results = run(arguments, work)
        except BaseException:
            print((work / "processes.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
    payload = {
        "topologies": results,
        "setup": {
            "model": "demo-ner, trainingConfigVersion 2022-05-01 (ONNX Runtime serving)",
            "job_documents": JOB_SIZE,
            "jobs": arguments.jobs,
            "latency_jobs": arguments.latency_jobs,
            "one_doc_jobs": arguments.one_doc_jobs,
            "submitters": arguments.submitters,
            "latency_poll_ms": POLL_S * 1000,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "machine": platform.machine(),
        },
    }
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    header = (
        "| topology | docs/s (25-doc jobs) | p50 ms | p95 ms | 1-doc jobs/s | "
        "DB transactions per 1-doc job | RSS of a predicting process (MiB) |\n"
        "|---|---|---|---|---|---|---|"
    )
    rows = [
        f"| {name} | {row['docs_per_s']} | {row['p50_ms']} | {row['p95_ms']} | "
        f"{row['jobs_per_s_1doc']} | {row.get('db_transactions_per_1doc_job', 'n/a')} | "
        f"{row.get('predicting_process_rss_mb', 'n/a')} |"
        for name, row in results.items()
    ]
    table = "\n".join([header, *rows])
    arguments.output.with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
