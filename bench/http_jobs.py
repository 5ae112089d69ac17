"""What an analyze job costs over HTTP beyond its prediction: this checkout against a baseline.

The demo NER project (default config) is trained and deployed once in ``--data-dir``; then, for
this checkout's code and for ``--baseline`` (another checkout's ``src/``, e.g. a ``git
worktree`` of the last landing), alternating ``--rounds`` times so that the machine's drift
hits both alike, each round starts ``lexicraft serve`` over that data dir and measures:

- ``p50_ms_1doc`` / ``server_p50_ms_1doc``: 1-document jobs run one at a time, the client
  polling every ``--poll-ms`` (10 ms), submit -> results in hand, and the server's own
  ``createdDateTime`` -> ``lastUpdatedDateTime``;
- ``clients_<n>``: ``n`` clients (1 and 16) each running ``--client-jobs`` 1-document jobs
  one after the other: docs/s, p50/p95 ms, and the CPU time per job of the server process and
  of this (client) process;
- ``inprocess_docs_per_s`` / ``inprocess_p50_ms_1doc``: the deployed model loaded in this
  process, predicting 25-document batches / one document alone (the ceiling and the floor).

Figures are medians over the rounds. ``bench/runtime.py`` is the full serving bench (it
trains its own conll2003 / banking77 models first); this one measures only the job path, in
minutes, to compare two versions of it. Writes ``bench/results/http_jobs.json`` and ``.md``.
Usage: ``python bench/http_jobs.py --baseline /tmp/base/src [--data-dir D] [--rounds 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import runtime
from common import machine_info
from runtime import RESULTS, client, concurrent_clients, deploy_demo, latencies, serve

from lexicraft.ml import registry

SOURCE = Path(__file__).resolve().parent.parent / "src"


def server_cpu_s(port: int) -> float:
    """User + system CPU seconds of the ``lexicraft serve`` process listening on ``port``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" in command and str(port).encode() in command:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    raise RuntimeError(f"no server process on port {port}")


def measure(source: Path, data_dir: Path, arguments: argparse.Namespace) -> dict[str, Any]:
    """One round against the code in ``source``."""
    env = {"LEXICRAFT_WORKER_THREADS": "16", "LEXICRAFT_WORKER_JOBS_PER_KEY": "16"}
    poll_s = arguments.poll_ms / 1000
    with serve(data_dir, source=source, extra_env=env) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        with client(base_url) as http:
            texts = deploy_demo(http)
        ones = [[text] for text in texts]
        latencies(base_url, ones, 20, poll_s)  # warm-up: model load, connections
        seen, server = latencies(base_url, ones, arguments.latency_jobs, poll_s)
        figures: dict[str, Any] = {
            "p50_ms_1doc": round(statistics.median(seen) * 1000, 1),
            "server_p50_ms_1doc": round(statistics.median(server) * 1000, 1),
        }
        for count in (1, 16):
            server_before, client_before = server_cpu_s(port), time.process_time()
            result = concurrent_clients(base_url, ones, count, arguments.client_jobs, poll_s)
            jobs = result["jobs"]
            figures[f"clients_{count}"] = {
                **result,
                "server_cpu_ms_per_job": round(
                    (server_cpu_s(port) - server_before) / jobs * 1e3, 1
                ),
                "client_cpu_ms_per_job": round(
                    (time.process_time() - client_before) / jobs * 1e3, 1
                ),
            }
    return figures


def inprocess(data_dir: Path) -> dict[str, float]:
    """The deployed model in this process: 25-document batches, and one document alone."""
    (model_dir,) = (data_dir / "models" / runtime.PROJECT).glob("m1-*")
    predictor = registry.load_ner_predictor(model_dir)
    project = json.loads(
        resources.files("lexicraft.demo").joinpath("data/demo-ner.json").read_text("utf-8")
    )
    texts = [document["text"] for document in project["assets"]["documents"]]
    size = runtime.JOB_SIZE
    chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
    predictor.predict(chunks[0])
    rate = runtime.inprocess_throughput(predictor.predict, chunks)
    alone = runtime.inprocess_latency(predictor.predict, texts)
    return {
        "inprocess_docs_per_s": round(rate, 1),
        "inprocess_p50_ms_1doc": round(statistics.median(alone) * 1000, 1),
    }


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (nested dicts key by key)."""
    merged: dict[str, Any] = {}
    for key, value in rounds[0].items():
        if isinstance(value, dict):
            merged[key] = median_of([entry[key] for entry in rounds])
        else:
            merged[key] = round(statistics.median(entry[key] for entry in rounds), 1)
    return merged


def markdown(results: dict[str, Any]) -> str:
    sides = ("this", "baseline")
    rows = [
        (
            "1-doc job p50 ms (server p50 ms)",
            lambda r: f"{r['p50_ms_1doc']} ({r['server_p50_ms_1doc']})",
        )
    ]
    for count in (1, 16):
        rows.append(
            (
                f"{count} client(s): docs/s, p50/p95 ms, CPU ms per job server / client",
                lambda r, c=count: (
                    f"{r[f'clients_{c}']['docs_per_s']}, {r[f'clients_{c}']['p50_ms']}/"
                    f"{r[f'clients_{c}']['p95_ms']}, {r[f'clients_{c}']['server_cpu_ms_per_job']}"
                    f" / {r[f'clients_{c}']['client_cpu_ms_per_job']}"
                ),
            )
        )
    rows.append(
        (
            "in-process docs/s (25-doc batches), p50 ms 1 doc",
            lambda r: f"{r['inprocess_docs_per_s']}, {r['inprocess_p50_ms_1doc']}",
        )
    )
    lines = [
        "# HTTP job path: this checkout against a baseline",
        "",
        f"`{results['command']}` — {results['cpus']} CPUs, {results['machine']}; medians of "
        f"{results['rounds']} alternating rounds. Generated by bench/http_jobs.py.",
        "",
        "| figure | this | baseline |",
        "|---|---|---|",
    ]
    for name, render in rows:
        lines.append(f"| {name} | " + " | ".join(render(results[side]) for side in sides) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="the baseline's src/")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "lexicraft-bench-http-jobs"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--latency-jobs", type=int, default=200)
    parser.add_argument("--client-jobs", type=int, default=40)
    parser.add_argument("--poll-ms", type=float, default=10.0)
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    arguments.data_dir.mkdir(parents=True, exist_ok=True)
    rounds: dict[str, list[dict[str, Any]]] = {"this": [], "baseline": []}
    for _ in range(arguments.rounds):
        for side, source in (("baseline", arguments.baseline), ("this", SOURCE)):
            figures = measure(source, arguments.data_dir, arguments)
            rounds[side].append(figures | inprocess(arguments.data_dir))
            print(side, json.dumps(rounds[side][-1]), flush=True)
    results: dict[str, Any] = {side: median_of(entries) for side, entries in rounds.items()}
    results |= {
        "rounds": arguments.rounds,
        "by_round": rounds,
        "cpus": os.cpu_count(),
        "machine": machine_info()["cpu"],
        "command": "python bench/http_jobs.py " + " ".join(sys.argv[1:]),
    }
    arguments.results_dir.mkdir(parents=True, exist_ok=True)
    (arguments.results_dir / "http_jobs.json").write_text(json.dumps(results, indent=1) + "\n")
    (arguments.results_dir / "http_jobs.md").write_text(markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
