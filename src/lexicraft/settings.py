"""Settings, read from the environment (prefix ``LEXICRAFT_``) once at the edge and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The schemes ``rate_limit_storage_url`` may have: one process's memory, or a Redis server.
RATE_LIMIT_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix")


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
    # Analyze jobs a process runs at once. More than the prediction slots
    # (predict_concurrency): a job's thread spends most of its time waiting for its turn at a
    # slot (see jobs/scheduler.py), and a free thread lets another key's new job start at
    # once instead of waiting for whole jobs to finish.
    worker_threads: int = 4
    # Analyze jobs of one key a process runs at once (at most worker_threads): the other
    # threads stay free for other keys' jobs, so one key with many requests cannot take every
    # thread. Two jobs of one key already keep a prediction slot busy (one predicts while the
    # other reads or writes the database), so a lone key loses no throughput.
    worker_jobs_per_key: int = 2
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
    # A submit route waits up to this long for its analyze job when this process's workers run
    # it: a job done by then is answered with a 202 that has clients poll at once, and their
    # first poll has the results (the SDKs, which poll once at once, then sleep Retry-After,
    # never sleep). 0 answers at once.
    submit_wait_s: float = 0.5
    # A poll of an analyze job that this process's workers have queued or run waits up to
    # this long for the job to end: a client polling tightly then sends one poll, not dozens
    # (sixteen such clients polling every 10 ms spent the server's CPU on their polls). 0
    # answers at once.
    poll_wait_s: float = 0.5
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
    # What one request may cost, in task-characters: tasks x characters of the request (each
    # task runs every character through a model). 500,000 admits one task over a maximal
    # request (125,000 characters) four times over, or 25 tasks over 20,000 characters, and
    # refuses 25 tasks over 125,000 characters (3,125,000). That is about 20 s of model time
    # on 2 CPU cores for the accurate NER model (about 25,000 characters/s in
    # bench/results/scale.json), so one request cannot hold a prediction slot for minutes.
    max_request_cost: int = 500_000
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
    # A file imported through `…/:import-file` with invalid records is refused with each of
    # them listed (line and field), up to this many: the rest are counted.
    import_errors_listed: int = Field(default=100, ge=1)
    # Every other body (project PATCH, train, deploy, swap, the Studio's labeling API, which
    # carries one document's text).
    max_authoring_request_bytes: int = 1_048_576 * 4
    # JSON bodies: checked on their bytes before any parser sees them (api/limits.py), so a
    # body nested too deeply (Python's parser recurses once per level and stops at about
    # 1,000 with a RecursionError) or with an integer too long (its conversion is quadratic,
    # and Python refuses more than 4,300 digits) is a 400 naming the setting. Azure's .NET
    # front ends read JSON with System.Text.Json, whose default MaxDepth is 64; no request of
    # the API nests more than 8 levels, project settings included.
    max_json_depth: int = Field(default=64, ge=1, le=500)
    # The API's integers are offsets, lengths and counts (int64 has 19 digits); 100 digits
    # leave room for clients that write numbers of free-form settings at any precision.
    max_json_integer_digits: int = Field(default=100, ge=1, le=4300)
    predict_batch_size: int = 32
    # The Studio flags an evaluation as too small to trust below these: fewer test documents
    # (or utterances) than this, or a label with fewer test examples (spans, documents of a
    # class) than the second. With 5 examples one error moves a label's recall by 20 points.
    evaluation_min_test_documents: int = Field(default=10, ge=0)
    evaluation_min_test_examples_per_label: int = Field(default=5, ge=0)
    # The longest comment a reviewer may leave when accepting or sending back a document.
    max_review_comment_chars: int = Field(default=2_000, ge=1)
    # A batch also holds at most this many characters (a longer document is a batch of its
    # own: texts are never cut). Batches are the turns of the fair scheduler, so this bounds
    # how long a newly arrived key waits for a prediction slot: about 0.3 s of the accurate
    # NER model on 2 CPU cores.
    predict_batch_characters: int = 8_000
    # Batches predicted at once per process (the local executor's prediction slots, handed
    # out in turns across keys: jobs/scheduler.py).
    predict_concurrency: int = 1
    # Models a process keeps loaded (least recently used dropped first), beside the bytes
    # bound of model_memory_budget_mb (at the end of this class). The count bounds what every
    # loaded model costs whatever its size (an ONNX Runtime session, a CLU deployment's entity
    # resolver), the budget what they cost by size; a dropped model is loaded again on its
    # next request. 16, as model_cache_size: a host keeps a copy of every model it keeps loaded.
    loaded_models_per_process: int = 16

    # Serving the fine-tuned encoders (NER, classification and CLU MiniLM models) on a CPU
    # through ONNX Runtime (ml/serving.py). A deploy writes the network as fp32 ONNX and as
    # int8 (its MatMuls dynamically quantized), then predicts the model's test split with both
    # (at most serving_int8_check_documents documents) and times them: int8 serves the model
    # when its F1 (NER, CLU entities) or accuracy (classification, CLU intents) is at most
    # serving_int8_tolerance_points below fp32's and it is faster on this host; otherwise the
    # model keeps fp32 and the deploy job says why in a warning. "fp32" / "int8" skip the
    # check and serve that graph.
    serving_precision: Literal["auto", "fp32", "int8"] = "auto"
    serving_int8_tolerance_points: float = 0.3
    serving_int8_check_documents: int = Field(default=200, ge=1)
    # False: int8 is chosen on accuracy alone (where the host that deploys is not the kind
    # of host that serves, its timing says nothing about theirs).
    serving_int8_speed_check: bool = True
    # Threads of one forward pass (ONNX Runtime's intra-op threads); 0: the process's CPU
    # share (affinity and cgroup quota) divided by predict_concurrency, so concurrent passes
    # never ask for more cores than there are. One inter-op thread, one session per model.
    serving_intra_op_threads: int = Field(default=0, ge=0)
    # Idle ONNX Runtime threads spin for work: lower latency for back-to-back batches, but
    # they burn cores that the API's threads and other processes want.
    serving_spin_wait: bool = False
    # Batching across jobs (ml/batching.py): concurrent analyze jobs of one model predict as
    # one batch of at most these many documents and characters. A lone job never waits; under
    # concurrent load a batch's leader waits up to serving_batch_window_ms for more jobs
    # (0: never) before it takes its turn at a prediction slot.
    serving_batch_window_ms: float = Field(default=5.0, ge=0)
    serving_batch_max_documents: int = Field(default=64, ge=1)
    serving_batch_max_characters: int = Field(default=16_000, ge=1)

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

    # Rate limits per subscription key, as Azure applies them: a 429 with Retry-After once a
    # key has used its budget. Each is a `limits` string ("1000/minute", or several such as
    # "20/second;1000/minute"); an empty string turns that budget off. Counted over a sliding
    # window, so a burst at a minute's boundary does not get twice the budget.
    # Runtime (analyze requests and their job polls, both API families): Azure's prediction
    # rate for custom text, 1,000 requests a minute (GET and POST).
    rate_limit_runtime: str = "1000/minute"
    # Every other keyed route (authoring, storage, the Studio's labeling API). Azure allows
    # 100 authoring GETs and 10 POSTs a minute; here one budget, larger, because the Studio
    # is an authoring client too: it polls a training job 150 times a minute.
    rate_limit_authoring: str = "600/minute"
    # Where the counters live: "memory://" (this process; one API process) or a Redis URL
    # ("redis://host:6379/0", "rediss://…") that every API process of a fleet shares, so a
    # key's budget is the same whichever process answers.
    rate_limit_storage_url: str = "memory://"

    # Slow and idle clients (each holds a connection and, for a body, the memory read so
    # far). Defaults are those of Kestrel, the server of Azure's .NET services.
    # The request line and headers must all arrive within this many seconds of the
    # connection opening (or of the first byte of the next request on a kept-alive one);
    # otherwise the connection is closed. It also closes connections that send nothing.
    request_header_timeout_s: float = Field(default=30.0, gt=0)
    # A kept-alive connection with no new request for this long is closed (uvicorn's
    # timeout_keep_alive; Kestrel keeps 130 s, uvicorn 5 s: connections are cheap to reopen).
    keep_alive_timeout_s: float = Field(default=5.0, gt=0)
    # A body must arrive at this many bytes a second on average, after a grace period:
    # else a 408 and the connection is closed. 0 turns the check off.
    min_request_body_rate_bytes_s: float = Field(default=240.0, ge=0)
    request_body_grace_s: float = Field(default=5.0, ge=0)

    # Integrity. A server or worker deletes at start what killed processes left in the data
    # dir: staging folders of trainings whose job no longer runs and model folders no model
    # or deployment uses (decided by the job table, whatever their age), and temporary files
    # of interrupted writes once they are older than this. Their writer is unknown, so age is
    # the only sign that none is still writing them (an ONNX export or a Blob download takes
    # seconds to minutes; an hour leaves room for a slow disk).
    leftover_grace_s: float = 3600.0

    # Pages of authoring lists and runtime results.
    default_page_size: int = 100

    # Conversation (CLU) projects, as Azure's service limits (spec CLU §1.8): an import
    # over any of them is refused naming the setting.
    clu_max_utterances_per_project: int = 50_000
    clu_max_intents_per_project: int = 500
    clu_max_entities_per_project: int = 350
    # Characters (code points) of one training utterance.
    clu_max_utterance_characters: int = 500
    clu_max_list_synonyms_per_project: int = 2_000_000
    clu_max_prebuilts_per_entity: int = 7
    clu_max_regex_expressions_per_project: int = 20
    # `:analyze-conversations`: Azure predicts on utterances of 1 to 1,000 characters
    # (counted here in text elements, like the analyze requests' character limits).
    clu_max_query_characters: int = Field(default=1_000, ge=1)

    # CLU entity components. A regex component runs user-written patterns on every
    # utterance: each expression gets at most this long on one text (then the component finds
    # nothing there and says so in the log), so a pattern that backtracks can never hold a
    # request; patterns longer than the second limit are refused at import.
    clu_regex_timeout_s: float = Field(default=0.05, gt=0)
    clu_max_regex_pattern_chars: int = Field(default=1000, ge=1)

    # Memory a process may spend on loaded models, in MiB (fractions allowed); 0:
    # no budget. The least recently used models are dropped until the loaded ones fit, beside
    # the loaded_models_per_process count. A model's size is estimated from the files it loads
    # (ml/cache.py, model_footprint); one larger than the whole budget is still served, alone,
    # with a warning in the log.
    model_memory_budget_mb: float = Field(default=2048, ge=0)

    @field_validator("rate_limit_runtime", "rate_limit_authoring")
    @classmethod
    def _rate_limits_parse(cls, value: str) -> str:
        if value.strip():
            try:
                parse_many(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate limit such as '1000/minute' or "
                    "'20/second;1000/minute' (an empty string turns the budget off)"
                ) from None
        return value.strip()

    @field_validator("rate_limit_storage_url")
    @classmethod
    def _rate_limit_storage_is_known(cls, value: str) -> str:
        scheme, separator, _rest = value.partition("://")
        if not separator or scheme not in RATE_LIMIT_STORAGE_SCHEMES:
            # Only the scheme is repeated: the rest of the URL may carry a password.
            raise ValueError(
                f"the rate limit storage must be a URL of scheme "
                f"{', '.join(RATE_LIMIT_STORAGE_SCHEMES)} (such as memory:// or "
                f"redis://host:6379/0), not {scheme + separator if separator else 'this'}"
            )
        return value

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
