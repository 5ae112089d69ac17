"""Use cases for training, trained models and their evaluation."""

from __future__ import annotations

import hashlib
import logging
import shutil
import statistics
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any, TypeVar, cast

from pydantic.alias_generators import to_camel

from lexicraft.domain.conversations import NONE_INTENT
from lexicraft.domain.jobs import Job, JobKind, JobOutcome, JobStatus
from lexicraft.domain.models import ModelEvaluation, TrainedModel
from lexicraft.domain.projects import Dataset, Document, Project, ProjectKind, check_name
from lexicraft.domain.review import is_accepted
from lexicraft.domain.text import StringIndexType
from lexicraft.domain.training import EvaluationOptions, TrainingRequest
from lexicraft.errors import (
    Conflict,
    InvalidParameterValue,
    ModelDamaged,
    ModelUnavailable,
    NotEnoughData,
    ProjectNotFound,
)
from lexicraft.ml import registry
from lexicraft.ml.artifacts import (
    ModelFormatError,
    TrainedLength,
    read_held_out_choice,
    read_trained_length,
)
from lexicraft.ml.base import (
    ClassExample,
    ClassScore,
    ConversationExample,
    ConversationOutput,
    Examples,
    ModelTraining,
    NerExample,
    PredictedSpan,
)
from lexicraft.ml.checksums import ModelDamagedError
from lexicraft.ml.evaluation import evaluate_classification, evaluate_ner
from lexicraft.ml.offsets import OffsetMap
from lexicraft.services import cancellation
from lexicraft.services.artifacts import attempt_tag, release_artifacts
from lexicraft.services.compute import ModelOutput
from lexicraft.services.context import ServiceContext
from lexicraft.services.conversations import current_project_file
from lexicraft.services.job_context import JobContext
from lexicraft.storage.sql import models as model_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql import review as review_store
from lexicraft.timeutil import format_datetime, utcnow

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Share of the job's percentComplete spent training; the rest is evaluation.
_TRAINING_SHARE = 90.0
#: Seconds of evaluation per second of training, per test document for each training one.
#: Evaluation reads each test document once, forward only: about a third of what a training
#: step spends on a document (forward, backward, optimiser), and the default schedules read
#: each training document about four times (epochs). So a test split a quarter the size of
#: the training split costs about 1/48 of the training time.
_EVALUATION_COST = 1.0 / 12.0


class EndEstimate:
    """When a training job will end, from the measured speed of its training steps.

    Trainers report the fraction of their steps done after each step. The time from the first
    such report to the latest, over the fraction done meanwhile, is the measured speed; the
    steps left at that speed, plus the evaluation (:data:`_EVALUATION_COST`), is the time
    left. Set-up before the first step (reading the data, loading the encoder) is not in the
    speed. No estimate until two reports have measured something. ``clock`` tells the time in
    seconds (tests pass their own); ``now`` the wall-clock time the estimate is added to.
    """

    def __init__(
        self,
        train_documents: int,
        test_documents: int,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._evaluation_share = _EVALUATION_COST * test_documents / max(1, train_documents)
        self._clock = clock
        self._now = now
        #: (clock, fraction) of the first report after a step.
        self._first: tuple[float, float] | None = None
        #: Seconds left as last measured, and when.
        self._remaining_s: float | None = None
        self._measured_at = 0.0

    def update(self, fraction: float) -> datetime | None:
        """Take the trainer's report of ``fraction`` done; the estimated end (None: none yet)."""
        at = self._clock()
        if self._first is None:
            if fraction > 0.0:
                self._first = (at, fraction)
            return None
        first_at, first_fraction = self._first
        done = fraction - first_fraction
        if done <= 0.0:
            return None if self._remaining_s is None else self._estimate(at)
        per_fraction = (at - first_at) / done  # seconds for the whole training, step speed
        self._remaining_s = per_fraction * (max(0.0, 1.0 - fraction) + self._evaluation_share)
        self._measured_at = at
        return self._estimate(at)

    def _estimate(self, at: float) -> datetime:
        assert self._remaining_s is not None
        left = max(0.0, self._remaining_s - (at - self._measured_at))
        return self._now() + timedelta(seconds=left)


def split_documents(
    documents: Sequence[Document], options: EvaluationOptions
) -> tuple[list[Document], list[Document]]:
    """(train, test): by each document's ``dataset`` (manual) or by a stable hash (percentage).

    Hashing the location keeps a document on the same side across retrains.
    """
    if options.kind == "manual":
        return (
            [d for d in documents if d.dataset is not Dataset.TEST],
            [d for d in documents if d.dataset is Dataset.TEST],
        )
    ordered = sorted(
        documents, key=lambda d: hashlib.sha256(d.location.encode("utf-8")).hexdigest()
    )
    test_count = round(len(ordered) * options.testing_split_percentage / 100)
    # Keep at least one document on each side when there are two or more.
    test_count = min(max(test_count, 1), len(ordered) - 1) if len(ordered) > 1 else 0
    test = {d.location for d in ordered[:test_count]}
    return [d for d in documents if d.location not in test], [
        d for d in documents if d.location in test
    ]


def training_documents(
    kind: ProjectKind, documents: Sequence[Document], *, reviewed_only: bool = False
) -> list[Document]:
    """The documents a training of a ``kind`` project trains and evaluates on; with
    ``reviewed_only`` (the project's ``trainReviewedOnly``) those a reviewer accepted alone."""
    if reviewed_only:
        documents = [d for d in documents if is_accepted(d)]
    if kind.is_classification:
        # A document nobody has classified yet is neither a training example nor a test case.
        return [d for d in documents if d.classes]
    return list(documents)


def _check_trainable(
    project_name: str,
    kind: ProjectKind,
    documents: Sequence[Document],
    options: EvaluationOptions,
) -> None:
    """Refuse (400) a training with nothing to learn from, saying what to label, before it
    is queued: a job failing later would say less, and a NER model trained on documents
    without a single span would only ever predict nothing."""
    if kind is ProjectKind.ENTITY_RECOGNITION and not any(d.spans for d in documents):
        raise NotEnoughData(
            f"no document of project {project_name!r} is labeled; tag at least one entity "
            "span before training"
        )
    if not documents:
        raise NotEnoughData(
            f"no document of project {project_name!r} is labeled; give documents their "
            "classes before training"
            if kind.is_classification
            else f"project {project_name!r} has no documents; add labeled documents first"
        )
    train, _ = split_documents(documents, options)
    if not train:
        raise NotEnoughData(
            "the training split is empty: every labeled document is assigned to the Test "
            "set; assign some to Train, or use a percentage split"
        )


def missing_label_warnings(
    kind: ProjectKind,
    labels: Sequence[str],
    intents: Sequence[str],
    train: Sequence[Document],
) -> tuple[dict[str, Any], ...]:
    """A warning for each label no training document uses: the model cannot learn to
    predict it. Conversation projects: their intents only (an entity's list, regex or
    prebuilt components find it without examples)."""
    used = {span.category for d in train for span in d.spans} | {
        category for d in train for category in d.classes
    }
    wanted = [i for i in intents if i != NONE_INTENT] if kind.is_conversation else labels
    missing = [label for label in wanted if label not in used]
    if not missing:
        return ()
    noun = (
        "intent"
        if kind.is_conversation
        else "entity"
        if kind is ProjectKind.ENTITY_RECOGNITION
        else "class"
    )
    names = ", ".join(repr(label) for label in missing)
    message = (
        f"No training document uses the {noun}{'s' if len(missing) > 1 else ''} {names}, so "
        f"the model cannot predict {'them' if len(missing) > 1 else 'it'}; label examples in "
        "the training set."
    )
    return ({"code": "LabelWithoutTrainingExamples", "message": message},)


def backend_for(project: Project, version: str) -> str:
    """The backend training config ``version`` trains ``project`` with: its kind's, or, for a
    project not in English or in several languages, the version's multilingual one."""
    return registry.resolve_backend_name(
        version,
        project.kind.value,
        multilingual=registry.wants_multilingual(project.language, project.multilingual),
    )


def submit_training(context: ServiceContext, project_name: str, request: TrainingRequest) -> Job:
    """Check a train request and queue it."""
    label = check_name(request.model_label, "modelLabel")
    version = request.training_config_version
    options = request.evaluation_options
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        try:
            backend = backend_for(project, version)
            # Jobs and models name the version itself, never "latest" (spec §5.5).
            resolved = registry.get_training_config_version(version).name
        except (
            registry.UnknownTrainingConfigVersionError,
            registry.UnknownProjectKindError,
        ) as error:
            raise InvalidParameterValue(str(error), target="trainingConfigVersion") from error
        kind = project.kind
        reviewed_only = review_store.get_settings(session, project_name).train_reviewed_only
        every = project_store.list_documents(session, project_name)
        if reviewed_only and not any(is_accepted(d) for d in every):
            raise NotEnoughData(
                f"project {project_name!r} trains on reviewed documents only "
                "(trainReviewedOnly) and no document is accepted yet; have a reviewer accept "
                "labeled documents, or turn the setting off"
            )
        documents = training_documents(kind, every, reviewed_only=reviewed_only)
        _check_trainable(project_name, kind, documents, options)
        payload = {
            "modelLabel": label,
            "trainingConfigVersion": resolved,
            "backend": backend,
            "evaluationOptions": options.to_wire(),
            # What the job trains and evaluates on, to measure the backend's speed per
            # document (training_estimates); never rendered.
            "documentCount": len(documents),
        }
        if request.training_mode is not None:
            payload["trainingMode"] = request.training_mode
        return context.queue.add(
            session,
            JobKind.TRAIN,
            payload,
            ttl_s=context.settings.authoring_job_ttl_s,
            project_name=project_name,
            target=label,
        )


def run_training(context: ServiceContext, job: JobContext) -> JobOutcome:
    """Train, evaluate on the test split, then store the model (replacing one of that label).

    The model is written to a staging folder and published whole by the model store, so a
    job re-run after a crash never uses half-written files. Deployments of the label keep the
    model they pinned.
    """
    payload = job.job.payload
    project_name = job.job.project
    label = payload["modelLabel"]
    started = utcnow()
    options = EvaluationOptions.from_stored(payload["evaluationOptions"])
    with context.database.session() as session:
        kind = project_store.get_project(session, project_name).kind
        labels = project_store.get_labels(session, project_name)
        documents = project_store.list_documents(session, project_name)
        reviewed_only = review_store.get_settings(session, project_name).train_reviewed_only
        intents = (
            project_store.get_conversation_assets(session, project_name).intents
            if kind.is_conversation
            else ()
        )
        # What the model trains on, for :load-snapshot (conversation projects, spec CLU §2.6).
        snapshot = current_project_file(session, project_name) if kind.is_conversation else None
    documents = training_documents(kind, documents, reviewed_only=reviewed_only)
    train, test = split_documents(documents, options)
    if not train:
        raise NotEnoughData("the training split is empty; assign documents to the Train set")

    # A key, not a path: every host finds the model through the model store.
    key = f"{project_name}/{label}-{uuid.uuid4().hex[:12]}"
    # The staging folder names its job, so that a re-run of the job (its worker died while
    # training) deletes what the dead attempt left behind. Nothing reads a staging folder;
    # only publishing makes a model.
    job_tag = attempt_tag(job.job.id)
    last_check = [0.0]
    end = EndEstimate(len(train), len(test))

    def progress(fraction: float) -> None:
        estimated_end = end.update(fraction)
        # Trainers call this often; the database is asked about cancellation at most 1/s.
        now = time.monotonic()
        if now - last_check[0] >= 1.0 or fraction >= 1.0:
            last_check[0] = now
            job.check_cancelled()
            job.progress(fraction * _TRAINING_SHARE, estimated_end)

    backend_name = payload["backend"]
    examples: Examples
    if kind.is_conversation:
        examples = [ConversationExample(d.text, d.classes[0], d.spans) for d in train]
    elif kind is ProjectKind.ENTITY_RECOGNITION:
        examples = [NerExample(d.text, d.spans) for d in train]
    else:
        examples = [ClassExample(d.text, d.classes) for d in train]
    training = ModelTraining(kind, backend_name, examples, labels, key, job_tag)
    try:
        context.compute.train(training, progress)
    except BaseException:
        # A training stopped from outside (its Ray worker killed) could not clean up after
        # itself; asking for the job's staging folder sweeps what it left on this host.
        shutil.rmtree(context.models.staging_dir(key, job_tag), ignore_errors=True)
        raise
    trained = utcnow()
    warnings = _schedule_warnings(context, key) + missing_label_warnings(
        kind, labels, intents, train
    )
    try:
        job.check_cancelled()
        if kind.is_conversation:
            summary, per_document = _evaluate_conversation(intents, labels, key, test, context)
        else:
            summary, per_document = _evaluate(kind, labels, key, test, context)
            summary.update(_held_out_details(context, key))
        # Last look before the model becomes visible: a cancelled job, or one another worker
        # took over (this one was cut off past its lease), must not replace the label's model.
        job.check_cancelled()
    except BaseException:
        context.models.delete(key)
        raise
    finished = utcnow()

    version = registry.get_training_config_version(payload["trainingConfigVersion"])
    model = TrainedModel(
        project_name=project_name,
        label=label,
        model_id=f"{label}-{trained.strftime('%Y%m%dT%H%M%SZ')}-{key[-12:]}",
        training_config_version=version.name,
        artifact_dir=key,
        trained_at=trained,
        training_duration_s=(trained - started).total_seconds(),
        expiration_date=version.model_expiration_date.isoformat(),
        backend=backend_name,
        evaluation_options=options.to_wire(),
    )
    evaluation = ModelEvaluation(options.to_wire(), summary, tuple(per_document))
    try:
        with context.database.session() as session:
            replaced = model_store.save_model(session, model, evaluation, snapshot)
            project_store.mark_trained(session, project_name, finished)
    except ProjectNotFound:
        # The project was deleted while this trained: its model has no row to belong to.
        context.models.delete(key)
        context.models.forget_project(project_name)
        raise
    if replaced is not None and replaced != model.artifact_dir:
        release_artifacts(context, [replaced])
    return JobOutcome(
        JobStatus.SUCCEEDED,
        result={
            "modelLabel": label,
            "trainingConfigVersion": version.name,
            **({"trainingMode": payload["trainingMode"]} if "trainingMode" in payload else {}),
            "trainingStatus": _phase(100, started, trained),
            "evaluationStatus": _phase(100, trained, finished),
        },
        warnings=warnings,
    )


def _schedule_warnings(context: ServiceContext, key: str) -> tuple[dict[str, Any], ...]:
    """The warnings about how long the model ``key`` trained (see :func:`length_warnings`)."""
    try:
        length = read_trained_length(context.models.local_dir(key))
    except (ModelFormatError, ModelUnavailable, OSError) as error:
        # Evaluation reads the same folder and says what is wrong with it.
        logger.warning("cannot read how long the model %s trained: %s", key, error)
        return ()
    return length_warnings(length)


def _held_out_details(context: ServiceContext, key: str) -> dict[str, Any]:
    """``{"modelSelection": …}``: what training chose on the documents it held out of the
    training split (e.g. the CRF's share beside the encoder and each candidate's F1 there), for
    the evaluation details; empty when the backend holds nothing out. A Lexicraft addition to
    Azure's summary (clients ignore keys they do not know)."""
    try:
        choice = read_held_out_choice(context.models.local_dir(key))
    except (ModelFormatError, ModelUnavailable, OSError) as error:
        logger.warning("cannot read what the model %s chose on held-out data: %s", key, error)
        return {}
    if choice is None:
        return {}
    return {"modelSelection": {to_camel(name): value for name, value in choice.items()}}


def length_warnings(length: TrainedLength | None) -> tuple[dict[str, Any], ...]:
    """A warning when the training config's wall-clock cap (``time_budget_s``) cut training
    short of the steps its data asked for: the model is weaker than the same config trained
    on a less busy machine, and the user should know."""
    if length is None or not length.stopped_early:
        return ()
    budget = (
        "its time budget"
        if length.time_budget_s is None
        else f"its time budget of {length.time_budget_s:g} seconds (time_budget_s)"
    )
    message = (
        f"Training reached {budget} after {length.trained_steps} of the "
        f"{length.planned_steps} steps its data asked for, so the model may be less accurate "
        "than the same data trained without the cap or on a faster machine."
    )
    return ({"code": "TrainingStoppedEarly", "message": message},)


def _phase(percent: int, start: Any, end: Any) -> dict[str, Any]:
    return {
        "percentComplete": percent,
        "startDateTime": format_datetime(start),
        "endDateTime": format_datetime(end),
        "status": "succeeded",
    }


def damaged_model(artifact: str) -> ModelDamaged:
    """What a client reads about model ``artifact`` (a model key) whose files are damaged:
    which trained model, and what to do; never its folder (the log has that)."""
    return ModelDamaged(
        f"The files of trained model {PurePosixPath(artifact).name!r} are damaged: they no "
        "longer match the checksums written when it was trained. Deploy another model, train "
        "it again, or restore its folder from a backup."
    )


def run_model(
    context: ServiceContext,
    kind: ProjectKind,
    artifact: str,
    texts: Sequence[str],
    then: Callable[[list[ModelOutput]], T],
    client: Hashable = None,
) -> T:
    """``then`` of the outputs of the ``kind`` model ``artifact`` (a model row's
    ``artifact_dir``) for ``texts``, as a turn of ``client`` (see :meth:`Compute.predict`).
    A model that cannot be read is an error that says what to do (its folder and the
    loader's detail go to the log only)."""
    try:
        return context.compute.predict(kind, artifact, texts, then, client=client)
    except ModelDamagedError as error:
        logger.error("the model %s is damaged: %s", artifact, error)
        raise damaged_model(artifact) from error
    except (ModelFormatError, registry.UnknownBackendError) as error:
        logger.error("cannot load the model %s: %s", artifact, error)
        raise ModelUnavailable(
            f"the trained model {PurePosixPath(artifact).name!r} cannot be loaded by this "
            "version of Lexicraft (it was written by another version or its files are "
            "damaged); train it again"
        ) from error


def _predict_all(
    context: ServiceContext, kind: ProjectKind, artifact: str, texts: Sequence[str]
) -> list[ModelOutput]:
    """The model's outputs for ``texts``, predicted in batches of ``predict_batch_size``."""
    batch = max(1, context.settings.predict_batch_size)
    outputs: list[ModelOutput] = []
    for start in range(0, len(texts), batch):
        outputs.extend(run_model(context, kind, artifact, texts[start : start + batch], list))
    return outputs


def _evaluate(
    kind: ProjectKind,
    labels: tuple[str, ...],
    artifact: str,
    test: Sequence[Document],
    context: ServiceContext,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Per-label metrics on the test split and Azure per-document results (UTF-16 offsets)."""
    texts = [d.text for d in test]
    per_document: list[dict[str, Any]] = []
    if kind is ProjectKind.ENTITY_RECOGNITION:
        predicted_spans = cast(
            list[list[PredictedSpan]], _predict_all(context, kind, artifact, texts)
        )
        summary = evaluate_ner([d.spans for d in test], predicted_spans, labels)
        for document, predicted in zip(test, predicted_spans, strict=True):
            offsets = OffsetMap(document.text)
            per_document.append(
                {
                    "projectKind": kind.value,
                    "location": document.location,
                    "language": document.language,
                    kind.result_key: {
                        "entities": [
                            {
                                "regionOffset": 0,
                                "regionLength": offsets.length_in(StringIndexType.UTF16),
                                "expectedEntities": _utf16_entities(offsets, document.spans),
                                "predictedEntities": _utf16_entities(offsets, predicted),
                            }
                        ]
                    },
                }
            )
        return summary, per_document
    predicted_classes = [
        [score.category for score in cast(list[ClassScore], scores)]
        for scores in _predict_all(context, kind, artifact, texts)
    ]
    multi = kind is ProjectKind.MULTI_LABEL_CLASSIFICATION
    summary = evaluate_classification(
        [d.classes for d in test], predicted_classes, labels, multi_label=multi
    )
    for document, predicted_list in zip(test, predicted_classes, strict=True):
        entry: dict[str, Any] = {
            "projectKind": kind.value,
            "location": document.location,
            "language": document.language,
        }
        if multi:
            entry[kind.result_key] = {
                "expectedClasses": list(document.classes),
                "predictedClasses": predicted_list,
            }
        else:
            entry[kind.result_key] = {
                "expectedClass": document.classes[0] if document.classes else None,
                "predictedClass": predicted_list[0] if predicted_list else None,
            }
        per_document.append(entry)
    return summary, per_document


def _evaluate_conversation(
    intents: tuple[str, ...],
    entities: tuple[str, ...],
    artifact: str,
    test: Sequence[Document],
    context: ServiceContext,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Intent and entity metrics on the test split (spec CLU §2.7: ``intentsEvaluation`` and
    ``entitiesEvaluation``, no per-kind wrapper) and per-utterance results (UTF-16 offsets).

    The predicted intent is the model's best, whatever its confidence: the project's
    ``confidenceThreshold`` is a runtime setting and may change after training.
    """
    outputs = cast(
        list[ConversationOutput],
        _predict_all(context, ProjectKind.CONVERSATION, artifact, [d.text for d in test]),
    )
    predicted_intents = [
        output.intents[0].category if output.intents else None for output in outputs
    ]
    intents_summary = evaluate_classification(
        [d.classes for d in test],
        [[] if intent is None else [intent] for intent in predicted_intents],
        intents,
        multi_label=False,
    )
    intents_summary["intents"] = intents_summary.pop("classes")
    entities_summary = evaluate_ner(
        [d.spans for d in test], [output.entities for output in outputs], entities
    )
    # Azure reports no true negatives for entities (they are unbounded at entity level).
    for metrics in entities_summary["entities"].values():
        metrics["trueNegativeCount"] = 0
    per_utterance = []
    for document, output, intent in zip(test, outputs, predicted_intents, strict=True):
        offsets = OffsetMap(document.text)
        per_utterance.append(
            {
                "text": document.text,
                "language": document.language,
                "intentsResult": {
                    "expectedIntent": document.classes[0],
                    "predictedIntent": intent or NONE_INTENT,
                },
                "entitiesResult": {
                    "expectedEntities": _utf16_entities(offsets, document.spans),
                    "predictedEntities": _utf16_entities(offsets, output.entities),
                },
            }
        )
    summary = {"intentsEvaluation": intents_summary, "entitiesEvaluation": entities_summary}
    return summary, per_utterance


def _utf16_entities(offsets: OffsetMap, spans: Sequence[Any]) -> list[dict[str, Any]]:
    entities = []
    for span in spans:
        offset, length = offsets.span_to_unit(span.start, span.end, StringIndexType.UTF16)
        entities.append({"category": span.category, "offset": offset, "length": length})
    return entities


def delete_model(context: ServiceContext, project_name: str, label: str) -> None:
    """Delete a trained model unless a deployment serves it."""
    with context.database.session() as session:
        users = [
            deployment.name
            for deployment in model_store.list_deployments(session, project_name)
            if deployment.model.label == label
        ]
        model_store.get_model(session, project_name, label)
        if users:
            raise Conflict(
                f"trained model {label!r} is used by deployment(s) {users}; delete or redeploy "
                "them first"
            )
        deleted = model_store.delete_model(session, project_name, label)
    release_artifacts(context, [deleted.artifact_dir])


def list_models(context: ServiceContext, project_name: str) -> list[TrainedModel]:
    """The project's trained models by label."""
    with context.database.session() as session:
        return model_store.list_models(session, project_name)


def get_model(context: ServiceContext, project_name: str, label: str) -> TrainedModel:
    """One trained model of the project."""
    with context.database.session() as session:
        return model_store.get_model(session, project_name, label)


def get_evaluation(
    context: ServiceContext, project_name: str, label: str
) -> tuple[ProjectKind, ModelEvaluation]:
    """A model's stored evaluation and its project's kind (which names the summary's key)."""
    with context.database.session() as session:
        kind = project_store.get_project(session, project_name).kind
        return kind, model_store.get_evaluation(session, project_name, label)


def training_config_versions(
    kind: ProjectKind | None = None,
) -> list[registry.TrainingConfigVersion]:
    """Every training config version (those that train ``kind`` projects, if given)."""
    return [
        version
        for version in registry.training_config_versions()
        if kind is None or kind.value in version.backends
    ]


def default_training_config_version() -> str:
    """The version a training request naming none (or ``latest``) trains with."""
    return registry.get_training_config_version(registry.LATEST).name


@dataclass(frozen=True, slots=True)
class TrainingEstimate:
    """How long training a project with one config version should take on this server,
    from the speed measured on its earlier trainings with the same backend."""

    version: registry.TrainingConfigVersion
    backend: str
    #: Finished trainings of the backend measured (jobs that have not expired, any project).
    measured_trainings: int
    #: Their median seconds (queue wait excluded) per document; None: nothing measured yet.
    seconds_per_document: float | None
    #: That speed times the project's documents now; None: nothing measured yet.
    estimated_s: float | None


@dataclass(frozen=True, slots=True)
class TrainingEstimates:
    """A project's kind, the documents a training would use now, and each config version's
    estimate."""

    kind: ProjectKind
    documents: int
    estimates: list[TrainingEstimate]


def training_estimates(context: ServiceContext, project_name: str) -> TrainingEstimates:
    """For each config version that trains the project's kind, how long a training of its
    documents should take, from the measured speed of earlier trainings with that backend.

    Each finished training job records how many documents it trained and evaluated on; its
    time from start to end over that number is its speed. Small trainings spend much of
    their time loading the encoder, so the speed is per document only roughly; it is the
    measured truth of this server, and ``None`` says when there is none yet.
    """
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        kind = project.kind
        reviewed_only = review_store.get_settings(session, project_name).train_reviewed_only
        documents = len(
            training_documents(
                kind,
                project_store.list_documents(session, project_name),
                reviewed_only=reviewed_only,
            )
        )
    speeds: dict[str, list[float]] = {}
    for job in context.queue.list_jobs([JobKind.TRAIN]):
        count = job.payload.get("documentCount")
        if (
            job.status is not JobStatus.SUCCEEDED
            or not isinstance(count, int)
            or count <= 0
            or job.started_at is None
            or job.finished_at is None
        ):
            continue
        seconds = (job.finished_at - job.started_at).total_seconds()
        speeds.setdefault(str(job.payload.get("backend")), []).append(seconds / count)
    estimates = []
    for version in training_config_versions(kind):
        backend = backend_for(project, version.name)
        measured = speeds.get(backend, [])
        speed = statistics.median(measured) if measured else None
        estimates.append(
            TrainingEstimate(
                version=version,
                backend=backend,
                measured_trainings=len(measured),
                seconds_per_document=speed,
                estimated_s=None if speed is None else speed * documents,
            )
        )
    return TrainingEstimates(kind, documents, estimates)


def list_training_jobs(context: ServiceContext, project_name: str) -> list[Job]:
    """The project's training jobs that have not expired, newest first."""
    with context.database.session() as session:
        project_store.get_project(session, project_name)
    return context.queue.list_jobs([JobKind.TRAIN], project_name=project_name)


def cancel_training(context: ServiceContext, project_name: str, job_id: str) -> None:
    """Cancel a waiting or running training job; a finished one cannot be cancelled."""
    cancellation.cancel_job(context, job_id, [JobKind.TRAIN], project_name=project_name)
