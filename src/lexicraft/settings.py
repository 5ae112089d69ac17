"""Settings, read from the environment (prefix ``LEXICRAFT_``) once at the edge and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can tune. Library code receives an instance; it never imports one."""

    model_config = SettingsConfigDict(env_prefix="LEXICRAFT_", extra="ignore")

    data_dir: Path = Path(".lexicraft")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data dir."
    )
    api_key: str | None = Field(
        default=None, description="An extra accepted subscription key (for scripts and tests)."
    )
    # Storage: where document containers and trained model folders live. "local": folders in
    # the data dir (one host, or a shared file system). "azure": an Azure Blob Storage account
    # (or Azurite): a project's storageInputContainerName is a Blob container there, and model
    # folders are blobs of one models container that every worker can read.
    storage_backend: Literal["local", "azure"] = "local"
    azure_storage_connection_string: SecretStr | None = Field(
        default=None, description="The storage account's connection string (azure backend)."
    )
    azure_models_container: str = "lexicraft-models"  # created when missing
    # Retries of a failed Blob request (connection lost, 5xx), 1 s, 3 s, 7 s … apart.
    azure_storage_retries: int = 3
    # Model folders a worker keeps downloaded from Blob (azure backend), least recently used
    # evicted first; each is a trained model's files (up to a few hundred MB).
    model_cache_size: int = 16

    # A server remembers each key's check this long: no query per request, and a revoked
    # key stops working within this many seconds.
    key_cache_ttl_s: float = 5.0

    # Job worker.
    worker_threads: int = 2  # analyze jobs
    authoring_threads: int = 1  # import, train, export, deploy, delete
    # Routes in this process wake its workers at once, and on PostgreSQL so does a job
    # submitted by any other process (LISTEN/NOTIFY); the poll is the safety net (and, on
    # SQLite, how jobs from the CLI are found). It costs an idle query per interval per pool.
    job_poll_interval_s: float = 0.5
    job_lease_s: float = 30.0
    # A stopping server or worker lets its running jobs finish for this long, then puts them
    # back in the queue for another worker. Under the 30 s a container platform usually waits
    # between SIGTERM and SIGKILL, so the release happens before the kill.
    worker_stop_grace_s: float = 20.0
    job_max_attempts: int = 3
    retry_after_s: int = 1
    analyze_job_ttl_s: float = 24 * 3600
    authoring_job_ttl_s: float = 7 * 24 * 3600

    # Operations.
    # A 503 (database or storage out of reach, not ready) tells clients to retry after this.
    unavailable_retry_after_s: int = 5
    # A worker that cannot reach the database waits twice as long after each failed try,
    # starting at the poll interval, up to this many seconds.
    worker_backoff_max_s: float = 30.0
    # `lexicraft worker` serves Prometheus metrics on this port when set (--metrics-port).
    worker_metrics_port: int | None = None
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 - scrapers reach workers from outside
    # Metrics name projects and deployments (labels of the documents counter); require the
    # subscription key on /metrics where those names must not be public.
    metrics_require_key: bool = False
    # "json": one JSON object per log line (time, level, logger, message, exception).
    log_format: Literal["text", "json"] = "text"
    # The API's documentation: /openapi.json and a Swagger UI at /docs whose scripts are
    # served from the installed swagger-ui-bundle package (nothing is loaded from another
    # host). They need the subscription key like the API, unless made public here.
    docs_enabled: bool = True
    docs_public: bool = False

    # Runtime limits (spec §4); configurable because self-hosters own their hardware.
    max_documents_per_request: int = 25
    # Every task runs each document through a model; one request must not hold the analyze
    # workers for minutes (Azure documents no number for custom tasks; 25 like the documents).
    max_tasks_per_request: int = 25
    max_characters_per_document: int = 125_000
    max_characters_per_request: int = 125_000
    # Request bodies, per route family: refused with a 413 before they are read (on their
    # Content-Length) or as soon as a streamed (chunked) body grows past the limit, so a
    # client cannot make the server hold more than this in memory per request.
    # Analyze requests (both runtime families): 25 documents of 125,000 characters fit with
    # room for JSON escapes (Azure documents 1 MB for the Language API as a whole).
    max_request_bytes: int = 1_048_576 * 4
    # A project file (`:import`): labels of up to 100,000 documents (Azure's project limit),
    # or inline texts; it is parsed in memory and kept in the job, hence a bound.
    max_import_bytes: int = 1_048_576 * 100
    # One document file uploaded into a storage container: Azure trains on documents of up to
    # 128,000 characters (at most 512 KB of UTF-8).
    max_upload_bytes: int = 1_048_576
    # Every other body (project PATCH, train, deploy, swap, the Studio's labeling API, which
    # carries one document's text).
    max_authoring_request_bytes: int = 1_048_576 * 4
    predict_batch_size: int = 32
    predict_concurrency: int = 1  # batches predicted at once per process (see ServiceContext)
    # Models a process keeps loaded (least recently used dropped first): each costs memory
    # (see docs/scaling.md), and a dropped one is loaded again on its next request.
    loaded_models_per_process: int = 8

    # Where trainings and predictions run: "local" (the process that runs the job) or "ray"
    # (a Ray cluster; see docs/architecture.md, "Executors"). The database stays the system of
    # record either way: Ray runs work, it keeps no state Lexicraft needs.
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = Field(
        default=None,
        description=(
            "The Ray cluster: 'auto' (the cluster this host belongs to), 'host:port' (its GCS "
            "address) or 'ray://host:port' (Ray Client, needs ray[client]); None: the cluster "
            "this host belongs to, else a private one started in the process."
        ),
    )
    # Named actors are shared by every Lexicraft process of the cluster in this namespace.
    ray_namespace: str = "lexicraft"
    # Actors that serve one model folder; a request goes to one of them in turn.
    ray_replicas_per_deployment: int = 1
    # How long a model actor waits for requests of other jobs to fill a batch (up to
    # predict_batch_size texts) before it predicts what it has.
    ray_batch_wait_ms: float = 5.0
    # GPUs a training task asks for; None: 1 when the cluster has a GPU, else 0. A number the
    # cluster cannot give leaves the training waiting for a node that has it.
    ray_train_num_gpus: float | None = None
    # A training whose Ray worker died (killed, out of memory, node lost) runs again this many
    # times; after that the job fails saying so.
    ray_train_max_retries: int = 1
    # How often the job's worker reads a Ray training's progress (and checks cancellation).
    ray_progress_interval_s: float = 0.5

    # Integrity. A server or worker deletes at start what killed processes left in the data
    # dir: staging folders of trainings whose job no longer runs and model folders no model
    # or deployment uses (decided by the job table, whatever their age), and temporary files
    # of interrupted writes once they are older than this. Their writer is unknown, so age is
    # the only sign that none is still writing them (an ONNX export or a Blob download takes
    # seconds to minutes; an hour leaves room for a slow disk).
    leftover_grace_s: float = 3600.0

    # Pages of authoring lists and runtime results.
    default_page_size: int = 100

    @model_validator(mode="after")
    def _azure_needs_an_account(self) -> Settings:
        if self.storage_backend == "azure" and self.azure_storage_connection_string is None:
            raise ValueError(
                "storage_backend 'azure' needs LEXICRAFT_AZURE_STORAGE_CONNECTION_STRING"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file inside the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lexicraft.db').resolve()}"

    @property
    def storage_dir(self) -> Path:
        """Root of the storage containers (``{data_dir}/storage/{container}/``)."""
        return self.data_dir / "storage"

    @property
    def models_dir(self) -> Path:
        """Where trained model folders live (local storage backend), as an absolute path.

        Model rows store a key relative to it (``{project}/{label}-{id}``), so every server or
        worker that mounts the data dir finds the folder, wherever it is mounted.
        """
        return (self.data_dir / "models").absolute()

    @property
    def model_cache_dir(self) -> Path:
        """This host's copies of model folders downloaded from Blob (azure backend)."""
        return (self.data_dir / "model-cache").absolute()
