"""Use cases for labeling: a project's documents one at a time, and its label list.

Azure's authoring API only replaces whole projects (import); the Studio labels document by
document, so these use cases change one document (or the label list) and keep every rule an
import enforces: spans are half-open code-point ranges inside the text, use a declared label and
never overlap; classes are declared, at most one for a single-label project.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy.orm import Session

from lexicraft.domain.history import DocumentAction
from lexicraft.domain.projects import Dataset, Document, Project, ProjectKind, renamed_classes
from lexicraft.domain.review import AnnotatorVersion, DocumentState, in_sample, relabeled, state_of
from lexicraft.domain.spans import Span, renamed_spans, span_problem
from lexicraft.domain.text import string_problem
from lexicraft.domain.users import Actor
from lexicraft.errors import Conflict, DocumentNotFound, InvalidParameterValue, LabelNotFound
from lexicraft.services import history
from lexicraft.services.context import ServiceContext
from lexicraft.storage.sql import documents as document_store
from lexicraft.storage.sql import projects as project_store
from lexicraft.storage.sql import review as review_store

# BCP-47-like: "en", "en-us", "zh-hans", "sr-Latn-RS".
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
_MAX_LABEL_LENGTH = 100
_MAX_LOCATION_LENGTH = 1024
# How many offending documents a conflict message names before "…".
_NAMED_IN_MESSAGES = 5


class LabelStatus(StrEnum):
    """Whether a document carries any span or class yet."""

    LABELED = "labeled"
    UNLABELED = "unlabeled"

    @classmethod
    def parse(cls, value: str) -> LabelStatus:
        """The status named by ``value`` (case-insensitive)."""
        for member in cls:
            if member.value == value.lower():
                return member
        raise InvalidParameterValue(
            f"status {value!r} is not valid; use 'labeled' or 'unlabeled'", target="status"
        )


class DatasetFilter(StrEnum):
    """Which documents a list shows by their ``dataset``; ``none`` means not assigned."""

    TRAIN = "Train"
    TEST = "Test"
    NONE = "none"

    @classmethod
    def parse(cls, value: str) -> DatasetFilter:
        """The filter named by ``value`` (case-insensitive)."""
        for member in cls:
            if member.value.lower() == value.lower():
                return member
        raise InvalidParameterValue(
            f"dataset {value!r} is not valid; use 'Train', 'Test' or 'none'", target="dataset"
        )


def is_labeled(document: Document) -> bool:
    """Whether ``document`` has at least one span or class."""
    return bool(document.spans or document.classes)


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """Filters of a document list; None shows everything. ``annotator``: documents that
    person labeled last or has an own version of (double annotation)."""

    status: LabelStatus | None = None
    dataset: DatasetFilter | None = None
    state: DocumentState | None = None
    annotator: str | None = None

    def matches(self, document: Document, annotators: Sequence[str] = ()) -> bool:
        """Whether ``document`` (with own versions by ``annotators``) passes every filter."""
        if self.status is not None and is_labeled(document) != (self.status is LabelStatus.LABELED):
            return False
        if self.state is not None and state_of(document) is not self.state:
            return False
        if self.annotator is not None and not (
            document.labeled_by == self.annotator or self.annotator in annotators
        ):
            return False
        if self.dataset is None:
            return True
        if self.dataset is DatasetFilter.NONE:
            return document.dataset is None
        return document.dataset is not None and document.dataset.value == self.dataset.value


@dataclass(frozen=True, slots=True)
class DocumentCounts:
    """How many of a project's documents are labeled and in each dataset."""

    total: int
    labeled: int
    train: int
    test: int

    @property
    def unlabeled(self) -> int:
        """Documents without any span or class."""
        return self.total - self.labeled

    @property
    def unassigned(self) -> int:
        """Documents in neither the Train nor the Test set."""
        return self.total - self.train - self.test


@dataclass(frozen=True, slots=True)
class DocumentList:
    """The documents matching a query, with their project, labels and whole-project counts;
    the project's double-annotation fraction and who has an own version of which document."""

    project: Project
    labels: tuple[str, ...]
    documents: list[Document]
    counts: DocumentCounts
    sample_fraction: float = 0.0
    annotators: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def double_annotation(self, document: Document) -> bool:
        """Whether ``document`` is in the project's double-annotation sample."""
        return in_sample(document.location, self.sample_fraction)


@dataclass(frozen=True, slots=True)
class LabeledDocument:
    """One document with its project's kind (renderers need it to pick entities or classes);
    whether it is in the double-annotation sample and who has an own version of it (None:
    not asked)."""

    kind: ProjectKind
    document: Document
    double_annotation: bool | None = None
    annotators: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewDocument:
    """A document to add; the location is generated when absent, the language defaults to the
    project's."""

    text: str
    language: str | None = None
    dataset: Dataset | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentChange:
    """What to change on a document; a None field (or ``change_dataset=False``) stays as is."""

    spans: tuple[Span, ...] | None = None
    classes: tuple[str, ...] | None = None
    change_dataset: bool = False
    dataset: Dataset | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class LabelUsage:
    """A label of the project and how many documents use it."""

    category: str
    documents: int


@dataclass(frozen=True, slots=True)
class LabelList:
    """A project's labels in order (entities or classes, by ``kind``), with their usage."""

    kind: ProjectKind
    labels: list[LabelUsage]


@dataclass(frozen=True, slots=True)
class LabelRename:
    """What renaming a label did: the labels after it, whether the new name was another
    label's (a merge), and how many documents changed."""

    labels: LabelList
    merged: bool
    documents: int


@dataclass(frozen=True, slots=True)
class DatasetAssignment:
    """The documents a bulk assignment moved into ``dataset`` (those already there are left
    out), and the project's counts after it."""

    dataset: Dataset | None
    changed: list[str]
    counts: DocumentCounts


def list_documents(
    context: ServiceContext, project_name: str, query: DocumentQuery | None = None
) -> DocumentList:
    """The project's documents in order, filtered by ``query``."""
    query = query or DocumentQuery()
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        labels = project_store.get_labels(session, project_name)
        documents = project_store.list_documents(session, project_name)
        settings = review_store.get_settings(session, project_name)
        annotators = annotators_by_location(session, project_name)
        return DocumentList(
            project=project,
            labels=labels,
            documents=[
                document
                for document in documents
                if query.matches(document, annotators.get(document.location, ()))
            ],
            counts=_counts(documents),
            sample_fraction=settings.double_annotation_fraction,
            annotators=annotators,
        )


def annotators_by_location(session: Session, project_name: str) -> dict[str, tuple[str, ...]]:
    """Who has an own version of which document of the project."""
    found: dict[str, list[str]] = {}
    for version in review_store.list_versions(session, project_name):
        found.setdefault(version.location, []).append(version.annotator)
    return {location: tuple(names) for location, names in found.items()}


def labeled_document(session: Session, project: Project, document: Document) -> LabeledDocument:
    """``document`` (or utterance) of ``project`` with its double-annotation sample
    membership and who has an own version of it."""
    fraction = review_store.get_settings(session, project.name).double_annotation_fraction
    versions = review_store.list_versions(session, project.name, document.location)
    return LabeledDocument(
        project.kind,
        document,
        double_annotation=in_sample(document.location, fraction),
        annotators=tuple(version.annotator for version in versions),
    )


def _counts(documents: Sequence[Document]) -> DocumentCounts:
    return DocumentCounts(
        total=len(documents),
        labeled=sum(1 for document in documents if is_labeled(document)),
        train=sum(1 for document in documents if document.dataset is Dataset.TRAIN),
        test=sum(1 for document in documents if document.dataset is Dataset.TEST),
    )


def assign_dataset(
    context: ServiceContext,
    project_name: str,
    locations: Sequence[str],
    dataset: Dataset | None,
    *,
    actor: Actor,
) -> DatasetAssignment:
    """Put every document at ``locations`` into ``dataset`` (None: no dataset), all or none:
    one unknown location changes nothing. Utterances of a conversation project too (their
    dataset is no part of the import's content rules). Each moved document's history names
    ``actor``."""
    if not locations:
        raise InvalidParameterValue(
            "locations is empty; name at least one document", target="locations"
        )
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        documents = project_store.list_documents(session, project_name)
        known = {document.location for document in documents}
        unknown = [location for location in dict.fromkeys(locations) if location not in known]
        if unknown:
            raise DocumentNotFound(
                f"document {unknown[0]!r} was not found in project {project_name!r}"
                + (f" (nor {len(unknown) - 1} more)" if len(unknown) > 1 else ""),
                target="locations",
            )
        wanted = set(locations)
        before = [
            document
            for document in documents
            if document.location in wanted and document.dataset is not dataset
        ]
        moved = [replace(document, dataset=dataset) for document in before]
        document_store.save_documents(session, project_name, moved)
        for old, new in zip(before, moved, strict=True):
            history.record(session, project, actor, DocumentAction.UPDATED, old, new)
        moved_at = {document.location: document for document in moved}
        after = [moved_at.get(document.location, document) for document in documents]
        return DatasetAssignment(dataset, [d.location for d in moved], _counts(after))


def get_document(context: ServiceContext, project_name: str, location: str) -> LabeledDocument:
    """One document of the project."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        document = document_store.get_document(session, project_name, location)
        return labeled_document(session, project, document)


def add_document(
    context: ServiceContext, project_name: str, new: NewDocument, *, actor: Actor
) -> LabeledDocument:
    """Write the text into the project's storage container and add an unlabeled document
    (``actor`` is recorded in its history)."""
    _check_text(new.text, "text")
    language = check_language(new.language) if new.language is not None else None
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _not_conversation(project, "POST …/utterances")
        container = project.storage_container
        if new.location is None:
            location = _free_location(
                context, container, document_store.list_locations(session, project_name)
            )
        else:
            location = _check_location(new.location)
            if document_store.find_document(session, project_name, location) is not None:
                raise Conflict(
                    f"project {project_name!r} already has a document at {location!r}; choose "
                    "another location or delete that document first",
                    target="location",
                )
            if context.blobs.exists(container, location):
                raise Conflict(
                    f"storage container {container!r} already holds a file {location!r}; "
                    "choose another location",
                    target="location",
                )
        document = Document(
            location=location,
            text=new.text,
            language=language or project.language,
            dataset=new.dataset,
        )
        # The file goes first: a failed insert leaves an unused file, never a row without text.
        context.blobs.write_text(container, location, new.text)
        document_store.add_document(session, project_name, document, file_written=True)
        history.record(session, project, actor, DocumentAction.CREATED, None, document)
        return labeled_document(session, project, document)


def update_document(
    context: ServiceContext,
    project_name: str,
    location: str,
    change: DocumentChange,
    *,
    actor: Actor,
) -> LabeledDocument:
    """Replace a document's spans or classes and/or change its dataset or language
    (``actor`` is recorded in its history). A change of its labels clears its review."""
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _not_conversation(project, "PATCH …/utterances/{location}")
        document = before = document_store.get_document(session, project_name, location)
        labels = project_store.get_labels(session, project_name)
        document = with_labels(project, labels, document, change.spans, change.classes)
        if change.change_dataset:
            document = replace(document, dataset=change.dataset)
        if change.language is not None:
            document = replace(document, language=check_language(change.language))
        document = relabeled(before, document, actor.name)
        document_store.save_document(session, project_name, document)
        history.record(session, project, actor, DocumentAction.UPDATED, before, document)
        return labeled_document(session, project, document)


def with_labels(
    project: Project,
    labels: tuple[str, ...],
    document: Document,
    spans: Sequence[Span] | None,
    classes: Sequence[str] | None,
) -> Document:
    """``document`` with ``spans`` or ``classes`` (None: as they are), checked against the
    project's kind and ``labels`` (the rules an import enforces)."""
    kind = project.kind
    if spans is not None:
        if kind.is_classification:
            raise InvalidParameterValue(
                f"project {project.name!r} is a {kind.value} project: send classes, not entities",
                target="entities",
            )
        problem = span_problem(document.text, spans, labels)
        if problem is not None:
            raise InvalidParameterValue(f"{document.location!r}: {problem}", target="entities")
        document = replace(document, spans=tuple(sorted(spans, key=lambda span: span.start)))
    if classes is not None:
        if not kind.is_classification:
            raise InvalidParameterValue(
                f"project {project.name!r} is a {kind.value} project: send entities, not classes",
                target="classes",
            )
        document = replace(document, classes=_check_classes(kind, classes, labels))
    return document


def delete_document(
    context: ServiceContext, project_name: str, location: str, *, actor: Actor
) -> None:
    """Remove a document from the project (its history stays, naming ``actor`` last).

    Its file stays in the storage container: containers can be shared by several projects,
    and Azure's Language Studio leaves the blob alone too.
    """
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        before = document_store.get_document(session, project_name, location)
        document_store.delete_document(session, project_name, location)
        history.record(session, project, actor, DocumentAction.DELETED, before, None)


def list_labels(context: ServiceContext, project_name: str) -> LabelList:
    """The project's labels in order, each with the number of documents using it."""
    with context.database.session() as session:
        kind = project_store.get_project(session, project_name).kind
        labels = project_store.get_labels(session, project_name)
        documents = project_store.list_documents(session, project_name)
    return LabelList(kind, _usage(documents, labels))


def set_labels(context: ServiceContext, project_name: str, labels: Sequence[str]) -> LabelList:
    """Replace the label list; a label that documents still use cannot be removed."""
    wanted = [check_label(label, f"labels[{index}]") for index, label in enumerate(labels)]
    duplicates = sorted(label for label, count in Counter(wanted).items() if count > 1)
    if duplicates:
        raise InvalidParameterValue(f"labels lists {duplicates} more than once", target="labels")
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _not_conversation(project, "…/intents and …/entities")
        kind = project.kind
        current = project_store.get_labels(session, project_name)
        documents = project_store.list_documents(session, project_name)
        removed = set(current) - set(wanted)
        for usage in _usage(documents, current):
            if usage.category in removed and usage.documents:
                users = _documents_using(documents, usage.category)
                named = ", ".join(repr(location) for location in users[:_NAMED_IN_MESSAGES])
                more = ", …" if len(users) > _NAMED_IN_MESSAGES else ""
                what = "class" if kind.is_classification else "entity"
                raise Conflict(
                    f"{what} {usage.category!r} is used by {usage.documents} document(s) "
                    f"({named}{more}); remove it from them before deleting it",
                    target="labels",
                )
        document_store.save_labels(session, project_name, wanted)
    return LabelList(kind, _usage(documents, tuple(wanted)))


def rename_label(
    context: ServiceContext, project_name: str, category: str, new_name: str, *, actor: Actor
) -> LabelRename:
    """Rename entity type or class ``category`` to ``new_name`` in the label list and in every
    document, in one transaction. A ``new_name`` the project has already merges ``category``
    into it: ``category`` leaves the list and a span or class it duplicates collapses into
    one. Annotators' own versions (double annotation) are renamed too. Labels live in the
    database (a document's file holds its text only), so no file changes. Each changed
    document's history names ``actor``."""
    name = check_label(new_name, "newName", "newName")
    with context.database.session() as session:
        project = project_store.get_project(session, project_name)
        _not_conversation(project, "…/intents/{name}:rename or …/entities/{name}:rename")
        labels = project_store.get_labels(session, project_name)
        what = "class" if project.kind.is_classification else "entity"
        if category not in labels:
            raise LabelNotFound(
                f"project {project_name!r} has no {what} {category!r}", target="category"
            )
        documents = project_store.list_documents(session, project_name)
        merged = name in labels and name != category
        if name == category:
            return LabelRename(LabelList(project.kind, _usage(documents, labels)), False, 0)
        if merged:
            wanted = tuple(label for label in labels if label != category)
        else:
            wanted = tuple(name if label == category else label for label in labels)
        renaming = label_renaming(session, project_name, documents, category, name)
        store_renaming(session, project, renaming, actor)
        document_store.save_labels(session, project_name, wanted)
        renamed_at = {after.location: after for _, after in renaming.documents}
        after = [renamed_at.get(document.location, document) for document in documents]
        changed = len(renaming.documents)
        return LabelRename(LabelList(project.kind, _usage(after, wanted)), merged, changed)


@dataclass(frozen=True, slots=True)
class Renaming:
    """A label renamed in a project's documents and in its annotators' own versions (double
    annotation): each document it changes (before, after) and each version it changes (after),
    not stored yet (:func:`store_renaming`)."""

    documents: list[tuple[Document, Document]]
    versions: list[AnnotatorVersion]


def label_renaming(
    session: Session,
    project_name: str,
    documents: Sequence[Document],
    category: str,
    name: str,
    *,
    in_spans: bool = True,
    in_classes: bool = True,
) -> Renaming:
    """Label ``category`` called ``name`` in ``documents`` (the project's) and in every
    annotator's version of them: in their spans (``in_spans``: an entity type, a conversation's
    entity) and/or classes (``in_classes``: a class, an utterance's intent). What that
    duplicates goes: renaming onto another label's name merges the two."""

    def renamed(
        spans: Sequence[Span], classes: Sequence[str]
    ) -> tuple[Sequence[Span], Sequence[str]]:
        return (
            renamed_spans(spans, category, name) if in_spans else spans,
            renamed_classes(classes, category, name) if in_classes else classes,
        )

    changed_documents = []
    for document in documents:
        spans, classes = renamed(document.spans, document.classes)
        if (spans, classes) != (document.spans, document.classes):
            after = replace(document, spans=tuple(spans), classes=tuple(classes))
            changed_documents.append((document, after))
    changed_versions = []
    for version in review_store.list_versions(session, project_name):
        spans, classes = renamed(version.spans, version.classes)
        if (spans, classes) != (version.spans, version.classes):
            changed_versions.append(replace(version, spans=tuple(spans), classes=tuple(classes)))
    return Renaming(changed_documents, changed_versions)


def store_renaming(session: Session, project: Project, renaming: Renaming, actor: Actor) -> None:
    """Store what :func:`label_renaming` changed; each document's history names ``actor``."""
    document_store.save_documents(session, project.name, [after for _, after in renaming.documents])
    for before, after in renaming.documents:
        history.record(session, project, actor, DocumentAction.LABEL_RENAMED, before, after)
    review_store.relabel_versions(session, project.name, renaming.versions)


# -- rules -------------------------------------------------------------------------------------


def _not_conversation(project: Project, instead: str) -> None:
    # An utterance carries an intent and spans under the import's rules, and a conversation
    # project's entities have definitions beside the label list: its own routes keep both.
    if project.kind.is_conversation:
        raise InvalidParameterValue(
            f"project {project.name!r} is a conversation project; use {instead}",
            target="projectName",
        )


def _usage(documents: Sequence[Document], labels: tuple[str, ...]) -> list[LabelUsage]:
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update({span.category for span in document.spans} | set(document.classes))
    return [LabelUsage(label, counts[label]) for label in labels]


def _documents_using(documents: Sequence[Document], label: str) -> list[str]:
    return [
        document.location
        for document in documents
        if label in document.classes or any(span.category == label for span in document.spans)
    ]


def _check_text(value: str, what: str) -> str:
    if not value.strip():
        raise InvalidParameterValue(f"{what} is empty; a document needs some text", target=what)
    problem = string_problem(value)
    if problem is not None:
        raise InvalidParameterValue(f"{what} {problem}", target=what)
    return value


def check_language(value: str) -> str:
    """``value`` if it looks like a language code, else the error."""
    if not _LANGUAGE.fullmatch(value):
        raise InvalidParameterValue(
            f"language {value!r} is not a language code such as 'en' or 'en-us'",
            target="language",
        )
    return value


def _check_location(value: str) -> str:
    _check_text(value, "location")
    if len(value) > _MAX_LOCATION_LENGTH:
        raise InvalidParameterValue(
            f"location is {len(value)} characters long; the limit is {_MAX_LOCATION_LENGTH}",
            target="location",
        )
    return value


def check_label(value: str, what: str, target: str = "labels") -> str:
    """``value`` if it is a usable label (intent, entity, class) name, else the error."""
    if (
        not value
        or value != value.strip()
        or len(value) > _MAX_LABEL_LENGTH
        or any(not character.isprintable() for character in value)
    ):
        raise InvalidParameterValue(
            f"{what} {value!r} is not a valid label: use 1-{_MAX_LABEL_LENGTH} printable "
            "characters without leading or trailing spaces",
            target=target,
        )
    return value


def _check_classes(
    kind: ProjectKind, classes: Sequence[str], labels: tuple[str, ...]
) -> tuple[str, ...]:
    for category in classes:
        if category not in labels:
            raise InvalidParameterValue(
                f"class {category!r} is not in the project's class list {sorted(labels)}",
                target="classes",
            )
    if len(set(classes)) != len(classes):
        raise InvalidParameterValue("classes lists a class more than once", target="classes")
    if kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION and len(classes) > 1:
        raise InvalidParameterValue(
            f"a single-label project's document has at most one class, not {list(classes)}",
            target="classes",
        )
    return tuple(classes)


def _free_location(context: ServiceContext, container: str, taken: set[str]) -> str:
    """``document-0001.txt``, … : the first name neither the project nor its container uses."""
    number = len(taken) + 1
    while True:
        location = f"document-{number:04d}.txt"
        if location not in taken and not context.blobs.exists(container, location):
            return location
        number += 1
