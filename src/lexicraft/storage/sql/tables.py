"""SQLAlchemy tables. Rows are ``XRow``; JSON columns hold wire-neutral structures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base; timestamps are stored as UTC-aware datetimes."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class UserRow(Base):
    """A person with a role (``domain.users.Role``); their keys are ``ApiKeyRow``s."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class ApiKeyRow(Base):
    """A subscription key, stored only as its SHA-256 hash; a user's, or a machine key's
    (``user_id`` NULL), bounded by its ``scope`` (``domain.users.Scope``)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", name="fk_api_keys_user_id"), index=True
    )
    scope: Mapped[str] = mapped_column(String(16), default="full", server_default="full")

    user: Mapped[UserRow | None] = relationship()


class ProjectRow(Base):
    """A project and its label list (entity categories or classes)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(20))
    storage_container: Mapped[str] = mapped_column(String(200))
    multilingual: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Conversation (CLU) projects only: {"intents": [...], "entities": [...]} (the entity
    # definitions with their components); ``labels`` then holds the entity categories.
    conversation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]
    last_trained_at: Mapped[datetime | None]
    last_deployed_at: Mapped[datetime | None]
    # Review settings (Lexicraft's own, not Azure's ``settings``): train on accepted
    # documents only; the share of documents annotated by several people.
    train_reviewed_only: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    double_annotation_fraction: Mapped[float] = mapped_column(
        Float, default=0.0, server_default="0"
    )

    documents: Mapped[list[DocumentRow]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="DocumentRow.position"
    )


class DocumentRow(Base):
    """A labeled document: its text (as read at import) and code-point spans or classes."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("project_id", "location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(1024))
    language: Mapped[str | None] = mapped_column(String(20))
    dataset: Mapped[str | None] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    # NER: [[start, end, category], …] in code points; classification: [class, …];
    # a conversation utterance: {"intent": …, "entities": [[start, end, category], …]}.
    annotations: Mapped[list[Any] | dict[str, Any]] = mapped_column(JSON, default=list)
    # Lexicraft wrote the file in the container for this project (the Studio, an inline
    # import), so deleting the project deletes it; a user's own file is never deleted.
    file_written: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Who last changed its labels (a user's name, else a key's); None: nobody since import.
    labeled_by: Mapped[str | None] = mapped_column(String(100))
    # ``domain.review.ReviewDecision`` (None: not reviewed since its labels last changed).
    review_state: Mapped[str | None] = mapped_column(String(16))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)

    project: Mapped[ProjectRow] = relationship(back_populates="documents")


class TrainedModelRow(Base):
    """A trained model: where its artifact lives and its stored evaluation."""

    __tablename__ = "trained_models"
    __table_args__ = (UniqueConstraint("project_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str] = mapped_column(String(200))
    training_config_version: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(100))
    artifact_dir: Mapped[str] = mapped_column(String(1024))
    trained_at: Mapped[datetime]
    training_duration_s: Mapped[float] = mapped_column(Float)
    expiration_date: Mapped[str] = mapped_column(String(10))
    evaluation_options: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Deferred: the evaluation is a large JSON document that only the evaluation routes read;
    # every other read of a model (each analyze job addressing one by id, model lists) skips it.
    evaluation_summary: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    # Per test document: {"location", "language", "expected": …, "predicted": …} (code points).
    evaluation_documents: Mapped[list[Any]] = mapped_column(JSON, deferred=True)
    # Conversation models: the project file they were trained on (``:load-snapshot``).
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)
    has_snapshot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    project: Mapped[ProjectRow] = relationship()


class DeploymentRow(Base):
    """A named deployment pinning one training run of a model of its project.

    The ``model_*`` columns copy the model as it was deployed, so retraining the label does
    not change what the deployment serves (only a deploy or a swap does).
    """

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    model_label: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime]
    model_id: Mapped[str] = mapped_column(String(200))
    model_artifact_dir: Mapped[str] = mapped_column(String(1024))
    model_training_config_version: Mapped[str] = mapped_column(String(64))
    model_trained_at: Mapped[datetime]
    model_training_duration_s: Mapped[float] = mapped_column(Float)
    model_expiration_date: Mapped[str] = mapped_column(String(10))
    # Conversation models: the pinned run's project file (``trained_models.snapshot``) without
    # its utterances, which the runtime answers with (intents, components, threshold).
    model_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON, deferred=True)

    project: Mapped[ProjectRow] = relationship()


class JobRow(Base):
    """A durable job: written before ``202`` is answered, claimed by workers with a lease."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    project_name: Mapped[str | None] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    percent_complete: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    # When the worker running the job expects it to end (training jobs: from the measured
    # speed of their steps); None: no estimate yet.
    estimated_end_at: Mapped[datetime | None]
    # The subscription key that submitted the job (api_keys.id), for fair claiming across
    # keys; None: the configured key (LEXICRAFT_API_KEY), the CLI, or a job that names no key.
    # No foreign key: keys are revoked, never deleted, and a job outlives nothing it names.
    api_key_id: Mapped[int | None] = mapped_column(Integer)


class DocumentEventRow(Base):
    """One change of a document (its history): who, when, the action, the labels before and
    after (``storage.sql.history`` writes them). By location and name, without foreign keys to
    the document or the user: history outlives both, and goes with its project."""

    __tablename__ = "document_events"
    __table_args__ = (Index("ix_document_events_document", "project_id", "location", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    location: Mapped[str] = mapped_column(String(1024))
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    # The user's name, else the key's (what the history shows even after either is gone).
    actor: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(Integer)
    key_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A review's comment (why a document was sent back).
    comment: Mapped[str | None] = mapped_column(Text)


class DocumentAnnotationRow(Base):
    """One annotator's own labels of a double-annotated document (``storage.sql.review``),
    in the stored form of ``DocumentRow.annotations``. By location and name, as
    ``DocumentEventRow``: the versions go with their project."""

    __tablename__ = "document_annotations"
    __table_args__ = (UniqueConstraint("project_id", "location", "annotator"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    location: Mapped[str] = mapped_column(String(1024))
    annotator: Mapped[str] = mapped_column(String(100))
    annotations: Mapped[list[Any] | dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]
