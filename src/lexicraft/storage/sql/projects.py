"""Projects, their labels and their documents in SQL; every function returns domain types."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lexicraft.domain.conversations import (
    CompositionSetting,
    ConversationAssets,
    ConversationEntity,
    EntityComponent,
    ListItem,
    RegexExpression,
    Synonyms,
)
from lexicraft.domain.projects import Dataset, Document, Project, ProjectAssets, ProjectKind
from lexicraft.domain.review import Review, ReviewDecision
from lexicraft.domain.spans import Span
from lexicraft.errors import ProjectNotFound
from lexicraft.storage.sql.tables import DocumentRow, ProjectRow
from lexicraft.timeutil import as_utc, utcnow


def to_project(row: ProjectRow) -> Project:
    """The domain view of a project row."""
    return Project(
        name=row.name,
        kind=ProjectKind(row.kind),
        language=row.language,
        storage_container=row.storage_container,
        multilingual=row.multilingual,
        description=row.description,
        settings=dict(row.settings or {}),
        created_at=as_utc(row.created_at),
        modified_at=as_utc(row.modified_at),
        last_trained_at=as_utc(row.last_trained_at) if row.last_trained_at else None,
        last_deployed_at=as_utc(row.last_deployed_at) if row.last_deployed_at else None,
    )


def to_document(row: DocumentRow, kind: ProjectKind) -> Document:
    """The domain view of a document row of a ``kind`` project."""
    spans, classes = labels_of(kind, row.annotations)
    return Document(
        location=row.location,
        text=row.text,
        language=row.language,
        dataset=Dataset(row.dataset) if row.dataset else None,
        spans=spans,
        classes=classes,
        labeled_by=row.labeled_by,
        review=review_of(row),
    )


def review_of(row: DocumentRow) -> Review | None:
    """The review stored on a document row, if any."""
    if row.review_state is None or row.reviewed_by is None or row.reviewed_at is None:
        return None
    return Review(
        decision=ReviewDecision(row.review_state),
        by=row.reviewed_by,
        at=as_utc(row.reviewed_at),
        comment=row.review_comment,
    )


def _spans(stored: list[Any]) -> tuple[Span, ...]:
    return tuple(Span(int(s), int(e), str(c)) for s, e, c in stored)


def labels_of(
    kind: ProjectKind, stored: list[Any] | dict[str, Any]
) -> tuple[tuple[Span, ...], tuple[str, ...]]:
    """The spans and classes (an utterance's intent) of labels in their stored form
    (:func:`stored_labels`): a document's, or an annotator's own version of one."""
    if isinstance(stored, dict):  # a conversation utterance
        return _spans(stored["entities"]), (str(stored["intent"]),)
    if kind is ProjectKind.ENTITY_RECOGNITION:
        return _spans(stored), ()
    return (), tuple(str(c) for c in stored)


def stored_labels(
    kind: ProjectKind, spans: Sequence[Span], classes: Sequence[str]
) -> list[Any] | dict[str, Any]:
    """The stored form of labels: ``[[start, end, category], …]`` for NER, ``[class, …]`` for
    classification, ``{"intent", "entities": [[start, end, category], …]}`` for an utterance."""
    stored = [[span.start, span.end, span.category] for span in spans]
    if kind.is_conversation:
        return {"intent": classes[0], "entities": stored}
    if kind is ProjectKind.ENTITY_RECOGNITION:
        return stored
    return list(classes)


def annotations_of(kind: ProjectKind, document: Document) -> list[Any] | dict[str, Any]:
    """The stored form of ``document``'s labels (:func:`stored_labels`)."""
    return stored_labels(kind, document.spans, document.classes)


def find_row(session: Session, name: str) -> ProjectRow | None:
    """The project row called ``name``, if any (for the other repositories of this package)."""
    return session.scalar(select(ProjectRow).where(ProjectRow.name == name))


def get_row(session: Session, name: str) -> ProjectRow:
    """The project row called ``name``, else ProjectNotFound."""
    row = find_row(session, name)
    if row is None:
        raise ProjectNotFound(f"project {name!r} was not found")
    return row


def find_project(session: Session, name: str) -> Project | None:
    """The project called ``name``, if any."""
    row = find_row(session, name)
    return None if row is None else to_project(row)


def get_project(session: Session, name: str) -> Project:
    """The project called ``name``, else ProjectNotFound."""
    return to_project(get_row(session, name))


def list_projects(session: Session, kinds: Collection[ProjectKind] | None = None) -> list[Project]:
    """Every project by name (of ``kinds``, when given)."""
    query = select(ProjectRow).order_by(ProjectRow.name)
    if kinds is not None:
        query = query.where(ProjectRow.kind.in_(sorted(kind.value for kind in kinds)))
    return [to_project(row) for row in session.scalars(query)]


def get_labels(session: Session, name: str) -> tuple[str, ...]:
    """The project's label list (entity categories or classes) in order."""
    return tuple(get_row(session, name).labels)


def has_documents(session: Session, name: str) -> bool:
    """Whether the project has at least one document."""
    row = get_row(session, name)
    return (
        session.scalar(select(DocumentRow.id).where(DocumentRow.project_id == row.id).limit(1))
        is not None
    )


def list_documents(session: Session, name: str) -> list[Document]:
    """The project's documents in import order."""
    row = get_row(session, name)
    kind = ProjectKind(row.kind)
    return [to_document(document, kind) for document in row.documents]


def save_metadata(session: Session, project: Project) -> tuple[Project, bool]:
    """Create or update a project's metadata; returns it and whether it was created."""
    row = find_row(session, project.name)
    now = utcnow()
    created = row is None
    if row is None:
        row = ProjectRow(name=project.name, created_at=now, labels=[])
        session.add(row)
    row.kind = project.kind.value
    row.language = project.language
    row.storage_container = project.storage_container
    row.multilingual = project.multilingual
    row.description = project.description
    row.settings = dict(project.settings)
    row.modified_at = now
    session.flush()
    return to_project(row), created


def replace_assets(
    session: Session,
    name: str,
    assets: ProjectAssets,
    written: Collection[str] = (),
    *,
    same_container: bool = True,
) -> None:
    """Replace a project's labels and documents (import replaces, spec §5.4).

    ``written``: the locations whose files the import wrote (inline texts). A file Lexicraft
    wrote for the project earlier stays known as such while a document still names it, if
    the project still reads the same container (``same_container``).
    """
    row = get_row(session, name)
    written = set(written) | (_written_locations(session, row) if same_container else set())
    row.labels = list(assets.labels)
    row.documents.clear()
    session.flush()
    row.documents.extend(_document_rows(ProjectKind(row.kind), assets.documents, written))
    row.modified_at = utcnow()
    session.flush()


def _document_rows(
    kind: ProjectKind, documents: Sequence[Document], written: Collection[str]
) -> list[DocumentRow]:
    return [
        DocumentRow(
            position=position,
            location=document.location,
            language=document.language,
            dataset=document.dataset.value if document.dataset else None,
            text=document.text,
            annotations=annotations_of(kind, document),
            file_written=document.location in written,
        )
        for position, document in enumerate(documents)
    ]


def _written_locations(session: Session, row: ProjectRow) -> set[str]:
    return set(
        session.scalars(
            select(DocumentRow.location).where(
                DocumentRow.project_id == row.id, DocumentRow.file_written.is_(True)
            )
        )
    )


def written_files(session: Session, name: str) -> tuple[str, list[str]]:
    """The project's storage container and the locations of the files Lexicraft wrote for
    its documents, none of which another project's document (in that container) uses."""
    row = get_row(session, name)
    mine = _written_locations(session, row)
    if not mine:
        return row.storage_container, []
    # A subquery, not a list of parameters: a project may have 100,000 documents.
    written = select(DocumentRow.location).where(
        DocumentRow.project_id == row.id, DocumentRow.file_written.is_(True)
    )
    shared = set(
        session.scalars(
            select(DocumentRow.location)
            .join(ProjectRow, ProjectRow.id == DocumentRow.project_id)
            .where(
                ProjectRow.id != row.id,
                ProjectRow.storage_container == row.storage_container,
                DocumentRow.location.in_(written),
            )
        )
    )
    return row.storage_container, sorted(mine - shared)


def get_conversation_assets(session: Session, name: str) -> ConversationAssets:
    """A conversation project's intents and entity definitions (none before an import)."""
    return conversation_assets_from(get_row(session, name).conversation)


def replace_conversation(
    session: Session, name: str, assets: ConversationAssets, utterances: Sequence[Document]
) -> None:
    """Replace a conversation project's intents, entities and utterances (an import)."""
    row = get_row(session, name)
    row.conversation = conversation_assets_to(assets)
    replace_assets(session, name, ProjectAssets(assets.entity_categories, tuple(utterances)))


def save_conversation_assets(session: Session, name: str, assets: ConversationAssets) -> None:
    """Replace a conversation project's intents and entities, keeping its utterances (the
    Studio's one-label changes; callers check the utterances still agree)."""
    row = get_row(session, name)
    row.conversation = conversation_assets_to(assets)
    row.labels = list(assets.entity_categories)
    row.modified_at = utcnow()
    session.flush()


def conversation_assets_to(assets: ConversationAssets) -> dict[str, Any]:
    """The stored (JSON) form of a conversation project's intents and entities."""
    return {
        "intents": list(assets.intents),
        "entities": [
            {
                "category": entity.category,
                "composition": entity.composition.value,
                "description": entity.description,
                "list": [
                    [item.key, [[words.language, list(words.values)] for words in item.synonyms]]
                    for item in entity.list_items
                ],
                "prebuilts": list(entity.prebuilts),
                "regex": [[r.key, r.language, r.pattern] for r in entity.regexes],
                "required": [component.value for component in entity.required_components],
            }
            for entity in assets.entities
        ],
    }


def conversation_assets_from(stored: dict[str, Any] | None) -> ConversationAssets:
    """The intents and entities :func:`conversation_assets_to` stored."""
    if stored is None:
        return ConversationAssets(intents=(), entities=())
    return ConversationAssets(
        intents=tuple(stored["intents"]),
        entities=tuple(
            ConversationEntity(
                category=entity["category"],
                composition=CompositionSetting(entity["composition"]),
                description=entity["description"],
                list_items=tuple(
                    ListItem(
                        key, tuple(Synonyms(language, tuple(values)) for language, values in words)
                    )
                    for key, words in entity["list"]
                ),
                prebuilts=tuple(entity["prebuilts"]),
                regexes=tuple(RegexExpression(*regex) for regex in entity["regex"]),
                required_components=tuple(EntityComponent(c) for c in entity["required"]),
            )
            for entity in stored["entities"]
        ),
    )


def mark_trained(session: Session, name: str, when: datetime) -> None:
    """Record that a model of the project finished training at ``when``."""
    get_row(session, name).last_trained_at = when


def mark_deployed(session: Session, name: str, when: datetime) -> None:
    """Record that a deployment of the project changed at ``when``."""
    get_row(session, name).last_deployed_at = when


def delete_project(session: Session, name: str) -> bool:
    """Delete the project with its documents, models and deployments; False if it was gone."""
    row = find_row(session, name)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True
