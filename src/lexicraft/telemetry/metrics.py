"""Every Prometheus metric of Lexicraft, defined once.

Counters and histograms count what *this process* did (jobs it ran, models it loaded,
documents it analyzed); Prometheus sums them over the processes it scrapes. The queue's
gauges are read from the database at scrape time by :class:`QueueCollector`, because jobs
are submitted and run by other processes too: every process reports the same whole queue
(aggregate them with ``max``, not ``sum``).

The metrics are registered in no global registry: :func:`build_registry` makes one per
server or worker, bound to that process's queue, so several apps can live in one test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lexicraft.domain.jobs import JobKind, JobStatus, QueueStatistics
from lexicraft.errors import ServiceUnavailable

logger = logging.getLogger(__name__)

JOB_DURATION = Histogram(
    "lexicraft_job_duration_seconds",
    "Seconds from a worker claiming a job to recording its outcome, by kind and outcome.",
    ["kind", "status"],
    # From a one-document analyze job (tens of milliseconds) to a long training (an hour).
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
    registry=None,
)
MODEL_CACHE_HITS = Counter(
    "lexicraft_model_cache_hits",
    "Predictions served by a model this process had already loaded.",
    registry=None,
)
MODEL_CACHE_LOADS = Counter(
    "lexicraft_model_cache_loads",
    "Models this process loaded from their folder (first use, or after eviction).",
    registry=None,
)
MODEL_CACHE_EVICTIONS = Counter(
    "lexicraft_model_cache_evictions",
    "Loaded models this process dropped to stay within its model budget or count.",
    registry=None,
)
MODEL_LOAD_SECONDS = Histogram(
    "lexicraft_model_load_seconds",
    "Seconds to load a model from its folder into this process.",
    # From a CRF model (milliseconds) to a fine-tuned encoder on a busy machine (seconds).
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=None,
)
MODEL_LOADED_BYTES = Gauge(
    "lexicraft_model_loaded_bytes",
    "Estimated resident bytes of the models this process holds loaded (the bytes of the "
    "files they were loaded from), which model_memory_budget_mb bounds.",
    registry=None,
)
DOCUMENTS_ANALYZED = Counter(
    "lexicraft_documents_analyzed",
    "Documents an analyze job's task ran through a deployment, by project and deployment.",
    ["project", "deployment"],
    registry=None,
)
PREDICTION_BATCHES = Counter(
    "lexicraft_prediction_batches",
    "Forward-pass batches this process ran for analyze jobs (ml/batching.py).",
    registry=None,
)
PREDICTION_BATCH_CALLS = Counter(
    "lexicraft_prediction_batch_calls",
    "Job batches those forward passes answered: above lexicraft_prediction_batches when "
    "concurrent jobs of one model shared a pass.",
    registry=None,
)

_PROCESS_METRICS = (
    JOB_DURATION,
    MODEL_CACHE_HITS,
    MODEL_CACHE_LOADS,
    MODEL_CACHE_EVICTIONS,
    MODEL_LOAD_SECONDS,
    MODEL_LOADED_BYTES,
    DOCUMENTS_ANALYZED,
    PREDICTION_BATCHES,
    PREDICTION_BATCH_CALLS,
)


class QueueCollector(Collector):
    """Gauges of the job table, read through ``read_statistics`` at each scrape."""

    def __init__(self, read_statistics: Callable[[], QueueStatistics]) -> None:
        self.read_statistics = read_statistics

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "lexicraft_database_up",
            "1 when this scrape could read the job queue from the database, else 0.",
        )
        try:
            statistics = self.read_statistics()
        except ServiceUnavailable:
            # The other metrics still count; the queue's are left out rather than made up.
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily(
            "lexicraft_jobs",
            "Unexpired jobs in the queue by kind and status.",
            labels=["kind", "status"],
        )
        depth = GaugeMetricFamily(
            "lexicraft_queue_depth", "Jobs waiting to be claimed, by kind.", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "lexicraft_queue_oldest_job_age_seconds",
            "Seconds the oldest waiting job of each kind has waited (0 when none waits).",
            labels=["kind"],
        )
        # Every combination, zeros included: a series that appears only once it is non-zero
        # breaks rate() and alerts on absence.
        for kind in JobKind:
            for status in JobStatus:
                jobs.add_metric(
                    [kind.value, status.value], statistics.counts.get((kind, status), 0)
                )
            depth.add_metric([kind.value], statistics.counts.get((kind, JobStatus.NOT_STARTED), 0))
            oldest = statistics.oldest_waiting.get(kind)
            waited = 0.0 if oldest is None else (statistics.taken_at - oldest).total_seconds()
            age.add_metric([kind.value], max(0.0, waited))
        yield jobs
        yield depth
        yield age


def build_registry(read_statistics: Callable[[], QueueStatistics]) -> CollectorRegistry:
    """A registry of this process's metrics, the queue's gauges and the process' own."""
    registry = CollectorRegistry()
    for collector in (*_PROCESS_METRICS, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    registry.register(QueueCollector(read_statistics))
    return registry
