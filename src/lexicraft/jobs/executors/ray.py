"""The Ray executor: trainings run as Ray tasks, predictions on per-model Ray actors.

Implements :class:`lexicraft.services.compute.Compute`. The job's worker process still does
everything else (reads the documents, stores the model and the results): Ray is where the
heavy work runs, PostgreSQL (the database) is where state lives. Models are named by their
model-store key: a training task publishes its model through the model store that the
settings name (built on the Ray node by ``storage.stores.open_stores``), and a model actor
reads its node's copy of it, so Ray nodes need no file system shared with the job's worker
when the models live in Blob Storage (with the local model store, they share the data dir's
``models/`` folder: one host, or a shared mount).

Failures end, never hang:

- a training task whose Ray worker died (killed, out of memory, node lost) is run again
  ``ray_train_max_retries`` times from an empty staging folder; then the job fails with a
  reason;
- a cancelled job (or one this worker lost) cancels its task with ``force=True``;
- if the job's worker process dies, Ray ends the tasks it owns, and the job queue gives the
  job to another worker once its lease expires;
- a model actor that died is replaced: the request that saw it die is sent once more to a new
  actor, and if that fails too the analyze task fails with a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import ray
from ray.exceptions import (
    NodeDiedError,
    OutOfMemoryError,
    RayActorError,
    RayTaskError,
    WorkerCrashedError,
)

from lexicraft.domain.projects import ProjectKind
from lexicraft.errors import JobFailure
from lexicraft.jobs.executors.local import load_model, serving_options, train_and_publish
from lexicraft.ml import serving
from lexicraft.ml.base import ModelTraining, Progress
from lexicraft.ml.cache import PredictorCache
from lexicraft.settings import Settings
from lexicraft.storage.artifacts.base import ModelStore
from lexicraft.storage.stores import open_stores

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a cancelled training may take to stop before its folder is cleaned up anyway.
_CANCEL_WAIT_S = 10.0


def actor_name(artifact: str, replica: int) -> str:
    """The name of replica ``replica`` of the actor serving model ``artifact``."""
    digest = hashlib.sha256(artifact.encode("utf-8")).hexdigest()[:24]
    return f"lexicraft-model-{digest}-{replica}"


@ray.remote(num_cpus=0)
class _ProgressBoard:
    """The latest progress of one training: its task writes, the job's worker reads."""

    def __init__(self) -> None:
        self._fraction = 0.0

    def report(self, fraction: float) -> None:
        self._fraction = fraction

    def fraction(self) -> float:
        return self._fraction


@ray.remote
def _train(
    settings: Settings, training: ModelTraining, board: Any, report_interval_s: float
) -> None:
    """Run ``training`` on a Ray worker (publishing its model), reporting progress to
    ``board``."""
    # The staging folder of a retry after a worker died starts empty: staging_dir deletes
    # what the dead attempt of this job left.
    models = open_stores(settings).models
    last = [0.0]

    def progress(fraction: float) -> None:
        # Trainers call this often; one message per interval is enough for the job's progress.
        now = time.monotonic()
        if now - last[0] >= report_interval_s or fraction >= 1.0:
            last[0] = now
            board.report.remote(fraction)

    train_and_publish(models, training, progress)


@ray.remote
class _ModelServer:
    """One replica serving one model: loads its node's copy once and predicts in batches.

    An async actor: requests of concurrent jobs (from any Lexicraft process) wait up to
    ``max_wait_s`` for each other and are predicted together, up to ``max_batch`` texts; the
    forward pass runs in a thread so that the next batch gathers meanwhile.
    """

    def __init__(
        self,
        settings: Settings,
        kind: ProjectKind,
        artifact: str,
        max_batch: int,
        max_wait_s: float,
    ):
        self._settings = settings
        # The actor's process loads the model: its ONNX Runtime session takes these settings.
        serving.configure(serving_options(settings))
        self._kind = kind
        self._artifact = artifact
        self._max_batch = max(1, max_batch)
        self._max_wait_s = max_wait_s
        self._models: ModelStore | None = None
        self._predictors = PredictorCache(capacity=1)
        self._pending: deque[tuple[list[str], asyncio.Future[list[Any]]]] = deque()
        self._arrived: asyncio.Event | None = None
        self._serving: asyncio.Task[None] | None = None
        self._requests = 0
        self._batches = 0

    async def predict(self, texts: list[str]) -> list[Any]:
        """One output per text."""
        loop = asyncio.get_running_loop()
        if self._arrived is None or self._serving is None:
            self._arrived = asyncio.Event()
            self._serving = loop.create_task(self._serve(self._arrived))
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._pending.append((texts, future))
        self._arrived.set()
        return await future

    async def stats(self) -> dict[str, int]:
        """Requests answered and batches predicted so far (for operators and tests)."""
        return {"requests": self._requests, "batches": self._batches}

    async def _serve(self, arrived: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self._pending:
                arrived.clear()
                await arrived.wait()
            # A short window in which requests of other jobs may join this batch.
            deadline = loop.time() + self._max_wait_s
            while self._queued() < self._max_batch and loop.time() < deadline:
                arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), deadline - loop.time())
            await self._run(self._take())

    def _load(self) -> Any:
        """The predictor, through a one-model cache: every batch checks the node's copy
        against its checksums (stat calls while it is unchanged), as the local executor does."""
        if self._models is None:
            self._models = open_stores(self._settings).models
        model_dir = self._models.local_dir(self._artifact)
        return self._predictors.get(model_dir, lambda folder: load_model(self._kind, folder))

    def _queued(self) -> int:
        return sum(len(texts) for texts, _future in self._pending)

    def _take(self) -> list[tuple[list[str], asyncio.Future[list[Any]]]]:
        """The oldest requests that fit in one batch (always at least one)."""
        batch = [self._pending.popleft()]
        size = len(batch[0][0])
        while self._pending and size + len(self._pending[0][0]) <= self._max_batch:
            size += len(self._pending[0][0])
            batch.append(self._pending.popleft())
        return batch

    async def _run(self, batch: list[tuple[list[str], asyncio.Future[list[Any]]]]) -> None:
        texts = [text for request, _future in batch for text in request]
        try:
            predictor = await asyncio.to_thread(self._load)
            outputs = await asyncio.to_thread(predictor.predict, texts)
        except Exception as error:
            for _request, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        self._batches += 1
        self._requests += len(batch)
        start = 0
        for request, future in batch:
            # A caller that went away (its task was cancelled) left a cancelled future.
            if not future.done():
                future.set_result(outputs[start : start + len(request)])
            start += len(request)


class RayCompute:
    """Runs trainings and predictions on the Ray cluster of ``settings.ray_address``."""

    def __init__(self, settings: Settings) -> None:
        # Tasks and actors build their stores from these settings on their own node, whose
        # working directory is not this process's.
        self._settings = settings.model_copy(update={"data_dir": settings.data_dir.absolute()})
        self._lock = threading.Lock()
        self._actors: dict[str, Any] = {}
        self._turn = itertools.count()

    def _connect(self) -> None:
        """Join the cluster on first use: a process that never trains or predicts never does."""
        with self._lock:
            if not ray.is_initialized():
                ray.init(
                    address=self._settings.ray_address,
                    namespace=self._settings.ray_namespace,
                    logging_level=logging.WARNING,
                )

    # -- training ------------------------------------------------------------------------------

    def train(self, training: ModelTraining, progress: Progress) -> None:
        """Run the training as a Ray task and wait for it, relaying its progress.

        ``progress`` is called every ``ray_progress_interval_s``; if it raises (the job was
        cancelled), the task is cancelled and the exception comes out of this call.
        """
        self._connect()
        settings = self._settings
        interval = settings.ray_progress_interval_s
        board = _ProgressBoard.remote()  # type: ignore[attr-defined]
        task = _train.options(
            num_gpus=self._train_gpus(), max_retries=settings.ray_train_max_retries
        ).remote(settings, training, board, interval)
        try:
            while not ray.wait([task], timeout=interval)[0]:
                progress(ray.get(board.fraction.remote()))
        except BaseException:
            # Cancelled, or this worker is going away: the training must stop writing.
            ray.cancel(task, force=True)
            ray.wait([task], timeout=_CANCEL_WAIT_S)
            raise
        finally:
            ray.kill(board)
        try:
            ray.get(task)
        except RayTaskError as error:
            # The trainer itself raised: the job fails as it would have in-process.
            raise _cause(error) from error
        except (WorkerCrashedError, OutOfMemoryError, NodeDiedError) as error:
            logger.error("the Ray task training model %s failed: %r", training.key, error)
            raise JobFailure(
                "the training stopped because the Ray worker running it died (it was killed, "
                "ran out of memory, or its node left the cluster) "
                f"{settings.ray_train_max_retries + 1} time(s); train again"
            ) from error

    def _train_gpus(self) -> float:
        if self._settings.ray_train_num_gpus is not None:
            return self._settings.ray_train_num_gpus
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        return 1.0 if resources.get("GPU", 0) >= 1 else 0.0

    # -- prediction ----------------------------------------------------------------------------

    def predict(
        self,
        kind: ProjectKind,
        artifact: str,
        texts: Sequence[str],
        then: Callable[[list[Any]], T],
        *,
        client: Hashable = None,
    ) -> T:
        """Send ``texts`` to a replica of model ``artifact``'s actor; ``then`` runs here after.

        ``client`` is not used: the actors serve requests in arrival order, batching those of
        concurrent jobs, so fairness across keys comes from the claims (see JobQueue.claim)
        and from the small batches the jobs send, not from turns here.
        """
        self._connect()
        name = actor_name(artifact, next(self._turn) % self._replicas)
        try:
            outputs = self._ask(name, kind, artifact, texts)
        except RayActorError:
            # Its worker died: a new actor takes the name, and the request goes to it.
            logger.warning("the Ray actor %s died; asking a new one", name)
            try:
                outputs = self._ask(name, kind, artifact, texts)
            except RayActorError as error:
                logger.error("the Ray actor %s died twice: %r", name, error)
                raise JobFailure(
                    "the Ray actor serving the model stopped while predicting (its worker "
                    "died), twice in a row; submit the job again"
                ) from error
        return then(outputs)

    def _ask(self, name: str, kind: ProjectKind, artifact: str, texts: Sequence[str]) -> Any:
        """The outputs of actor ``name`` for ``texts``; a dead actor's handle is dropped."""
        actor = self._actor(name, kind, artifact)
        try:
            return ray.get(actor.predict.remote(list(texts)))
        except RayTaskError as error:
            raise _cause(error) from error
        except RayActorError:
            with self._lock:
                if self._actors.get(name) is actor:
                    del self._actors[name]
            raise

    @property
    def _replicas(self) -> int:
        return max(1, self._settings.ray_replicas_per_deployment)

    def _actor(self, name: str, kind: ProjectKind, artifact: str) -> Any:
        """The actor ``name``: this process's handle, else the cluster's, else a new one."""
        with self._lock:
            actor = self._actors.get(name)
        if actor is None:
            settings = self._settings
            # Detached: the actor outlives the process that created it, and every Lexicraft
            # process of the namespace finds it by name (get_if_exists is atomic in Ray).
            actor = _ModelServer.options(  # type: ignore[attr-defined]
                name=name, lifetime="detached", get_if_exists=True
            ).remote(
                settings,
                kind,
                artifact,
                settings.predict_batch_size,
                settings.ray_batch_wait_ms / 1000,
            )
            with self._lock:
                actor = self._actors.setdefault(name, actor)
        return actor

    def forget(self, artifact: str) -> None:
        """Stop the actors of model ``artifact`` (in every process: they are the cluster's)."""
        self._connect()
        for replica in range(self._replicas):
            name = actor_name(artifact, replica)
            with self._lock:
                self._actors.pop(name, None)
            try:
                actor = ray.get_actor(name)
            except ValueError:
                continue  # none was started
            ray.kill(actor)


def _cause(error: RayTaskError) -> BaseException:
    """The exception the remote code raised, as it would have been raised in-process."""
    cause = error.cause
    return cause if isinstance(cause, BaseException) else error
