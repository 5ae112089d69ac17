"""Event-loop benchmark: how long a cheap request waits while a large import is submitted and runs.

For each code tree given (``--src``; the first is the baseline), starts ``lexicraft serve`` on
that tree over a fresh data dir whose storage container holds ``--documents`` text files, then:

- ``idle_p50_ms``: ``GET …/projects`` one at a time with nothing else happening;
- ``busy_p50_ms`` / ``busy_p95_ms`` / ``busy_p99_ms`` / ``busy_max_ms`` /
  ``stalls_over_100ms``: the same request, one at a time, from the
  moment an import of every file is sent until that import job has succeeded (``--imports``
  imports in a row). A server that reads the documents or queries SQL on its event loop makes
  every other request wait for that work.

All trees are measured in one run, alternating, so the machine's drift hits them alike.
Writes ``bench/results/event_loop.json`` and ``bench/results/event_loop.md``.
Usage: ``python bench/event_loop.py --src OLD/src --src src [--documents 5000]
[--document-chars 2000] [--imports 3] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from common import git_revision, machine_info, now_iso
from runtime import KEY, serve

AUTHORING = "/language/authoring/analyze-text/projects"
V = {"api-version": "2023-04-01"}
RESULTS = Path(__file__).parent / "results"
_SENTENCES = (
    "The invoice was paid late and the customer asked for a refund of the delivery fee.",
    "Our team shipped the new release on Friday after the security review was finished.",
    "Please reset my password, the login page keeps saying that the account is locked.",
)


@contextmanager
def serve_client(source: Path, data_dir: Path) -> Iterator[httpx.Client]:
    """``lexicraft serve`` running the code in ``source``; yields a client for it."""
    with (
        serve(data_dir, source) as base_url,
        httpx.Client(
            base_url=base_url, headers={"Ocp-Apim-Subscription-Key": KEY}, timeout=300
        ) as client,
    ):
        yield client


def project_file(documents: int) -> dict[str, Any]:
    """A single-label project whose documents are files in the container ``bulk``."""
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "CustomSingleLabelClassification",
            "projectName": "bulk",
            "storageInputContainerName": "bulk",
            "language": "en",
        },
        "assets": {
            "projectKind": "CustomSingleLabelClassification",
            "classes": [{"category": "A"}, {"category": "B"}],
            "documents": [
                {
                    "location": f"doc-{index:05d}.txt",
                    "language": "en",
                    "class": {"category": "A" if index % 2 else "B"},
                }
                for index in range(documents)
            ],
        },
    }


def write_container(data_dir: Path, documents: int, characters: int) -> None:
    """``documents`` text files of about ``characters`` characters in the container ``bulk``."""
    container = data_dir / "storage" / "bulk"
    container.mkdir(parents=True)
    for index in range(documents):
        words: list[str] = []
        while sum(len(word) + 1 for word in words) < characters:
            words.append(_SENTENCES[(index + len(words)) % 3])
        (container / f"doc-{index:05d}.txt").write_text(f"{index}: {' '.join(words)}", "utf-8")


def timed_get(client: httpx.Client) -> float:
    start = time.perf_counter()
    response = client.get(AUTHORING, params=V)
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return elapsed


def measure(source: Path, documents: int, characters: int, imports: int) -> dict[str, Any]:
    """Idle and busy latencies of ``GET …/projects`` on the server running ``source``."""
    with tempfile.TemporaryDirectory(prefix="lexicraft-event-loop-") as folder:
        data_dir = Path(folder)
        write_container(data_dir, documents, characters)
        body = project_file(documents)
        with serve_client(source, data_dir) as client:
            for _ in range(20):  # warm up: first requests open connections and caches
                timed_get(client)
            idle = [timed_get(client) for _ in range(200)]
            busy: list[float] = []
            import_s: list[float] = []
            for _ in range(imports):
                done = threading.Event()

                def run_import(done: threading.Event = done) -> None:
                    start = time.perf_counter()
                    try:
                        response = client.post(f"{AUTHORING}/bulk/:import", params=V, json=body)
                        response.raise_for_status()
                        location = response.headers["Operation-Location"]
                        while client.get(location).json()["status"] not in (
                            "succeeded", "failed",
                        ):  # fmt: skip
                            time.sleep(0.05)
                        import_s.append(time.perf_counter() - start)
                    finally:
                        done.set()

                importer = threading.Thread(target=run_import)
                importer.start()
                while not done.is_set():
                    busy.append(timed_get(client))
                importer.join()
    return {
        "idle_p50_ms": statistics.median(idle),
        "busy_p50_ms": statistics.median(busy),
        "busy_p95_ms": sorted(busy)[int(0.95 * (len(busy) - 1))],
        "busy_p99_ms": sorted(busy)[int(0.99 * (len(busy) - 1))],
        "busy_max_ms": max(busy),
        "stalls_over_100ms": sum(1 for value in busy if value > 100),
        "busy_requests": len(busy),
        "import_s_median": statistics.median(import_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, action="append", required=True)
    parser.add_argument("--documents", type=int, default=5000)
    parser.add_argument("--document-chars", type=int, default=2000)
    parser.add_argument("--imports", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runs: dict[str, list[dict[str, Any]]] = {str(source): [] for source in args.src}
    for _round in range(args.rounds):
        for source in args.src:
            result = measure(source.resolve(), args.documents, args.document_chars, args.imports)
            print(source, json.dumps(result), flush=True)
            runs[str(source)].append(result)
    summary = {
        source: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for source, results in runs.items()
    }
    output = {
        "run": {"date": now_iso(), "git": git_revision(), "machine": machine_info()},
        "documents": args.documents,
        "document_chars": args.document_chars,
        "imports_per_round": args.imports,
        "rounds": args.rounds,
        "systems": summary,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "event_loop.json").write_text(json.dumps(output, indent=2) + "\n", "utf-8")
    lines = [
        f"# GET …/projects while a {args.documents}-document import runs ({output['run']['date']})",
        "",
        f"Documents of about {args.document_chars} characters, read from the storage container.",
        "",
        "| code | idle p50 ms | busy p50 ms | busy p95 ms | busy p99 ms | busy max ms "
        "| stalls > 100 ms | requests | import s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for source, figures in summary.items():
        lines.append(
            f"| {source} | {figures['idle_p50_ms']:.1f} | {figures['busy_p50_ms']:.1f} | "
            f"{figures['busy_p95_ms']:.1f} | {figures['busy_p99_ms']:.1f} | "
            f"{figures['busy_max_ms']:.1f} | {figures['stalls_over_100ms']:.0f} | "
            f"{figures['busy_requests']:.0f} | {figures['import_s_median']:.1f} |"
        )
    lines += ["", f"Medians of {args.rounds} rounds, all systems from one run, alternating."]
    (RESULTS / "event_loop.md").write_text("\n".join(lines) + "\n", "utf-8")


if __name__ == "__main__":
    main()
