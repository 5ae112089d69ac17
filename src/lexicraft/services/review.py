"""Use cases of review and agreement (custom text and conversation projects).

A reviewer accepts a document's (or utterance's) labels or sends them back with a comment; a
project's review settings restrict training to accepted documents and put a share of the
documents through double annotation, where each annotator's labels are kept apart (their own
version: spans, classes, or an utterance's intent and spans), compared for agreement
(``domain.agreement``) and resolved by a reviewer into the document's labels. Every review is
recorded in the document's history, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from lexicraft.domain.agreement import (
    Measure,
    PairReport,
    Part,
    measured_parts,
    pairwise_class_agreement,
    pairwise_span_agreement,
    pairwise_utterance_agreement,
)
from lexicraft.domain.history import DocumentAction
from lexicraft.domain.projects import Document, Project, ProjectKind
from lexicraft.domain.review import (
    AnnotatorVersion,
    Review,
    ReviewDecision,
    ReviewSettings,
    in_sample,
    relabeled,
)
from lexicraft.domain.spans import Span
from lexicraft.domain.text import string_problem
from lexicraft.domain.users import Actor
from lexicraft.errors import Conflict, InvalidParameterValue
from lexicraft.services import conversation_labeling, history
from lexicraft.services.context import ServiceContext
from lexicraft.services.documents import LabeledDocument, labeled_document, with_labels
from lexicraft.storage.sql import documents as document_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql import review as review_store
from lexicraft.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class Labels:
    """Labels sent for a document: ``spans`` (NER, an utterance's entities), ``classes``
    (classification), ``intent`` (an utterance); None: not sent."""

    spans: Sequence[Span] | None = None
    classes: Sequence[str] | None = None
    intent: str | None = None

    @property
    def empty(self) -> bool:
        """Whether no label was sent at all."""
        return self.spans is None and self.classes is None and self.intent is None


def _with(
    context: ServiceContext, session: Session, project: Project, document: Document, labels: Labels
) -> Document:
    """``document`` with ``labels`` (None: as they are), checked by the rules its own labels
    are checked by: :func:`with_labels` for custom text, the utterance routes' import rules
    for an utterance."""
    if project.kind.is_conversation:
        if labels.classes is not None:
            raise InvalidParameterValue(
                f"project {project.name!r} is a conversation project: send intent and "
                "entities, not classes",
                target="classes",
            )
        return conversation_labeling.with_utterance_labels(
            context, session, project.name, document, labels.intent, labels.spans
        )
    if labels.intent is not None:
        raise InvalidParameterValue(
            f"project {project.name!r} is a {project.kind.value} project: intents are for "
            "conversation projects",
            target="intent",
        )
    catalog = project_store.get_labels(session, project.name)
    return with_labels(project, catalog, document, labels.spans, labels.classes)


def _check_comment(context: ServiceContext, comment: str | None) -> str | None:
    if comment is None or not comment.strip():
        return None
    limit = context.settings.max_review_comment_chars
    if len(comment) > limit:
        raise InvalidParameterValue(
            f"comment is {len(comment)} characters long; the limit is {limit}", target="comment"
        )
    problem = string_problem(comment)
    if problem is not None:
        raise InvalidParameterValue(f"comment {problem}", target="comment")
    return comment.strip()


# -- settings ----------------------------------------------------------------------------------


def get_settings(context: ServiceContext, project_name: str) -> ReviewSettings:
    """The project's review settings."""
    with context.database.session() as session:
        project_store.get_project(session, project_name)
        return review_store.get_settings(session, project_name)


def change_settings(
    context: ServiceContext,
    project_name: str,
    *,
    train_reviewed_only: bool | None = None,
    double_annotation_fraction: float | None = None,
) -> ReviewSettings:
    """Change the project's review settings (None: as it is)."""
    with context.database.session() as session:
        current = review_store.get_settings(session, project_name)
        wanted = ReviewSettings(
            train_reviewed_only=current.train_reviewed_only
            if train_reviewed_only is None
            else train_reviewed_only,
            double_annotation_fraction=current.double_annotation_fraction
            if double_annotation_fraction is None
            else double_annotation_fraction,
        )
        review_store.save_settings(session, project_name, wanted)
        return wanted


# -- review ------------------------------------------------------------------------------------


def review_document(
    context: ServiceContext,
    project_name: str,
    location: str,
    decision: ReviewDecision,
    comment: str | None,
    *,
    actor: Actor,
) -> LabeledDocument:
    """Accept the document's (or utterance's) labels as they are, or send them back
    (``comment``: why)."""
    note = _check_comment(context, comment)
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        before = document_store.get_document(session, project_name, location)
        after = replace(before, review=Review(decision, actor.name, utcnow(), note))
        document_store.save_document(session, project_name, after)
        action = (
            DocumentAction.REVIEWED
            if decision is ReviewDecision.ACCEPTED
            else DocumentAction.SENT_BACK
        )
        history.record(session, project, actor, action, before, after, comment=note)
        return labeled_document(session, project, after)


# -- double annotation -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentVersions:
    """A document (its labels: the resolved version), whether it is in the double-annotation
    sample, and every annotator's own version of it."""

    labeled: LabeledDocument
    versions: list[AnnotatorVersion]


@dataclass(frozen=True, slots=True)
class OwnVersion:
    """An annotator's version as stored, with its project's kind (renderers need it)."""

    kind: ProjectKind
    version: AnnotatorVersion


def save_my_version(
    context: ServiceContext,
    project_name: str,
    location: str,
    labels: Labels,
    *,
    actor: Actor,
) -> OwnVersion:
    """Store ``actor``'s own labels of a document in the double-annotation sample, checked as
    the document's own labels are; the document's labels do not change. An utterance's
    version needs its intent (its entities default to none)."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        document = document_store.get_document(session, project_name, location)
        fraction = review_store.get_settings(session, project_name).double_annotation_fraction
        if not in_sample(location, fraction):
            where = "utterances" if project.kind.is_conversation else "documents"
            raise Conflict(
                f"document {location!r} is not in the double-annotation sample of project "
                f"{project_name!r} (doubleAnnotationFraction {fraction}); label it with PATCH "
                f"…/{where}/{{location}}",
                target="location",
            )
        kind = project.kind
        needed = (
            ("intent", labels.intent)
            if kind.is_conversation
            else ("classes", labels.classes)
            if kind.is_classification
            else ("entities", labels.spans)
        )
        if needed[1] is None:
            raise InvalidParameterValue(f"{needed[0]} is required", target=needed[0])
        if kind.is_conversation and labels.spans is None:
            labels = replace(labels, spans=())
        # Checked from nothing: none of the document's own labels slip into the version.
        empty = replace(document, spans=(), classes=())
        mine = _with(context, session, project, empty, labels)
        saved = review_store.save_version(
            session, project_name, location, actor.name, mine.spans, mine.classes
        )
        return OwnVersion(project.kind, saved)


def document_versions(
    context: ServiceContext, project_name: str, location: str
) -> DocumentVersions:
    """A document with every annotator's own version of it."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        document = document_store.get_document(session, project_name, location)
        return DocumentVersions(
            labeled_document(session, project, document),
            review_store.list_versions(session, project_name, location),
        )


def resolve(
    context: ServiceContext,
    project_name: str,
    location: str,
    source: str | None,
    labels: Labels,
    comment: str | None,
    *,
    actor: Actor,
) -> LabeledDocument:
    """Give a document the labels of annotator ``source``'s version, or the ``labels`` sent
    (a merge; an utterance's intent or entities not sent stay as they are), and accept it:
    one transaction, one history entry."""
    note = _check_comment(context, comment)
    if (source is None) == labels.empty:
        raise InvalidParameterValue(
            "send either 'from' (the annotator whose version to use) or the labels "
            "('entities', 'classes', or an utterance's 'intent' and 'entities'): one of the two",
            target="from",
        )
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        before = document_store.get_document(session, project_name, location)
        if source is not None:
            found = [
                v
                for v in review_store.list_versions(session, project_name, location)
                if v.annotator == source
            ]
            if not found:
                raise InvalidParameterValue(
                    f"{source!r} has no version of document {location!r}", target="from"
                )
            labels = _labels_of(project.kind, found[0])
            by = source
        else:
            by = actor.name
        after = relabeled(before, _with(context, session, project, before, labels), by)
        after = replace(after, review=Review(ReviewDecision.ACCEPTED, actor.name, utcnow(), note))
        document_store.save_document(session, project_name, after)
        history.record(
            session, project, actor, DocumentAction.RESOLVED, before, after, comment=note
        )
        return labeled_document(session, project, after)


def _labels_of(kind: ProjectKind, version: AnnotatorVersion) -> Labels:
    """An annotator's version as the labels a resolution sends."""
    if kind.is_conversation:
        return Labels(spans=version.spans, intent=version.classes[0])
    if kind.is_classification:
        return Labels(classes=version.classes)
    return Labels(spans=version.spans)


# -- agreement ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectAgreement:
    """Agreement between every pair of the project's annotators (those with own versions):
    the parts of the labels compared and how (``domain.agreement.measured_parts``), and each
    pair's report."""

    kind: ProjectKind
    parts: tuple[tuple[Part, Measure], ...]
    annotators: list[str]
    documents: int
    pairs: list[PairReport]


def project_agreement(context: ServiceContext, project_name: str) -> ProjectAgreement:
    """Span F1 (entities) and Cohen's kappa (classes, an utterance's intent) of every pair of
    annotators over the documents both annotated, per label, with the documents where they
    differ."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        labels = project_store.get_labels(session, project_name)
        intents: tuple[str, ...] = ()
        entities: tuple[str, ...] = ()
        if project.kind.is_conversation:
            _, assets = conversation_labeling.conversation_project(session, project_name)
            intents, entities = assets.intents, assets.entity_categories
        present = document_store.list_locations(session, project_name)
        # Versions stay by location when a document goes (as its history does); only the
        # project's documents count.
        versions = [
            version
            for version in review_store.list_versions(session, project_name)
            if version.location in present
        ]
    by_annotator: dict[str, dict[str, AnnotatorVersion]] = {}
    for version in versions:
        by_annotator.setdefault(version.annotator, {})[version.location] = version
    counts: dict[str, int] = {}
    for version in versions:
        counts[version.location] = counts.get(version.location, 0) + 1
    shared = sum(1 for count in counts.values() if count > 1)
    pairs: list[PairReport]
    if project.kind.is_conversation:
        pairs = pairwise_utterance_agreement(
            {
                name: {
                    location: (v.classes[0] if v.classes else None, v.spans)
                    for location, v in mine.items()
                }
                for name, mine in by_annotator.items()
            },
            intents,
            entities,
        )
    elif project.kind is ProjectKind.ENTITY_RECOGNITION:
        pairs = [
            PairReport.of(pair)
            for pair in pairwise_span_agreement(
                {
                    name: {location: v.spans for location, v in mine.items()}
                    for name, mine in by_annotator.items()
                },
                labels,
            )
        ]
    else:
        pairs = [
            PairReport.of(pair)
            for pair in pairwise_class_agreement(
                {
                    name: {location: v.classes for location, v in mine.items()}
                    for name, mine in by_annotator.items()
                },
                labels,
                single_label=project.kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION,
            )
        ]
    return ProjectAgreement(
        project.kind, measured_parts(project.kind), sorted(by_annotator), shared, pairs
    )
