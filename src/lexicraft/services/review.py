"""Use cases of review and agreement (custom text projects).

A reviewer accepts a document's labels or sends them back with a comment; a project's review
settings restrict training to accepted documents and put a share of the documents through
double annotation, where each annotator's labels are kept apart (their own version), compared
for agreement (``domain.agreement``) and resolved by a reviewer into the document's labels.
Every review is recorded in the document's history, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from lexicraft.domain.agreement import (
    PairAgreement,
    pairwise_class_agreement,
    pairwise_span_agreement,
)
from lexicraft.domain.history import DocumentAction
from lexicraft.domain.projects import Project, ProjectKind
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
from lexicraft.services import history
from lexicraft.services.context import ServiceContext
from lexicraft.services.documents import LabeledDocument, labeled_document, with_labels
from lexicraft.storage.sql import documents as document_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql import review as review_store
from lexicraft.timeutil import utcnow


def _text_project(project: Project) -> None:
    # Utterances have their own labeling routes and no review step (yet).
    if project.kind.is_conversation:
        raise InvalidParameterValue(
            f"project {project.name!r} is a conversation project; review and double "
            "annotation are for custom text projects",
            target="projectName",
        )


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
        _text_project(project_store.get_project(session, project_name))
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
    """Accept the document's labels as they are, or send them back (``comment``: why)."""
    note = _check_comment(context, comment)
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _text_project(project)
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
    spans: Sequence[Span] | None,
    classes: Sequence[str] | None,
    *,
    actor: Actor,
) -> OwnVersion:
    """Store ``actor``'s own labels of a document in the double-annotation sample, checked as
    the document's own labels are; the document's labels do not change."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _text_project(project)
        document = document_store.get_document(session, project_name, location)
        fraction = review_store.get_settings(session, project_name).double_annotation_fraction
        if not in_sample(location, fraction):
            raise Conflict(
                f"document {location!r} is not in the double-annotation sample of project "
                f"{project_name!r} (doubleAnnotationFraction {fraction}); label it with PATCH "
                "…/documents/{location}",
                target="location",
            )
        if (spans if project.kind is ProjectKind.ENTITY_RECOGNITION else classes) is None:
            field = "entities" if project.kind is ProjectKind.ENTITY_RECOGNITION else "classes"
            raise InvalidParameterValue(f"{field} is required", target=field)
        labels = project_store.get_labels(session, project_name)
        empty = replace(document, spans=(), classes=())
        mine = with_labels(project, labels, empty, spans, classes)
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
        _text_project(project)
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
    spans: Sequence[Span] | None,
    classes: Sequence[str] | None,
    comment: str | None,
    *,
    actor: Actor,
) -> LabeledDocument:
    """Give a document the labels of annotator ``source``'s version, or the ``spans`` /
    ``classes`` sent (a merge), and accept it: one transaction, one history entry."""
    note = _check_comment(context, comment)
    if (source is None) == (spans is None and classes is None):
        raise InvalidParameterValue(
            "send either 'from' (the annotator whose version to use) or the labels "
            "('entities' or 'classes'): one of the two",
            target="from",
        )
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _text_project(project)
        before = document_store.get_document(session, project_name, location)
        ner = project.kind is ProjectKind.ENTITY_RECOGNITION
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
            spans = found[0].spans if ner else None
            classes = None if ner else found[0].classes
            by = source
        else:
            by = actor.name
        labels = project_store.get_labels(session, project_name)
        after = with_labels(project, labels, before, spans, classes)
        after = relabeled(before, after, by)
        after = replace(after, review=Review(ReviewDecision.ACCEPTED, actor.name, utcnow(), note))
        document_store.save_document(session, project_name, after)
        history.record(
            session, project, actor, DocumentAction.RESOLVED, before, after, comment=note
        )
        return labeled_document(session, project, after)


# -- agreement ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectAgreement:
    """Agreement between every pair of the project's annotators (those with own versions)."""

    kind: ProjectKind
    annotators: list[str]
    documents: int
    pairs: list[PairAgreement]


def project_agreement(context: ServiceContext, project_name: str) -> ProjectAgreement:
    """Span F1 (NER) or Cohen's kappa (classification) of every pair of annotators over the
    documents both annotated, per label, with the documents where they differ."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _text_project(project)
        labels = project_store.get_labels(session, project_name)
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
    if project.kind is ProjectKind.ENTITY_RECOGNITION:
        pairs = pairwise_span_agreement(
            {
                name: {location: v.spans for location, v in mine.items()}
                for name, mine in by_annotator.items()
            },
            labels,
        )
    else:
        pairs = pairwise_class_agreement(
            {
                name: {location: v.classes for location, v in mine.items()}
                for name, mine in by_annotator.items()
            },
            labels,
            single_label=project.kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION,
        )
    return ProjectAgreement(project.kind, sorted(by_annotator), shared, pairs)
