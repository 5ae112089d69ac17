"""Use cases for labeling a conversation (CLU) project one utterance, intent or entity at a time.

Azure's authoring API only replaces a whole conversation project (``:import``); the Studio
labels utterance by utterance. Every change here is checked by the import's own content rules
(:func:`lexicraft.services.conversation_files.read_conversation_file`: text not empty and
within the length limit, the intent and entities declared, labels inside the text, one
entity's labels apart, the entity components valid), on a project file made of the project's
intents and entities and the utterances the change touches, so a change the import would
refuse is refused here with the same message. Offsets count code points, as the Studio's
labeling API does; errors name the field of the Studio's request (``entities[1].offset``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from lexicraft.domain.conversation_files import ConversationFile
from lexicraft.domain.conversations import (
    NONE_INTENT,
    ConversationAssets,
    ConversationEntity,
    ListItem,
)
from lexicraft.domain.history import DocumentAction
from lexicraft.domain.projects import Dataset, Document, Project
from lexicraft.domain.review import relabeled
from lexicraft.domain.spans import Span
from lexicraft.domain.users import Actor
from lexicraft.errors import Conflict, InvalidParameterValue, LexicraftError
from lexicraft.services import history
from lexicraft.services.context import ServiceContext
from lexicraft.services.conversation_files import (
    read_conversation_file,
    utterance_entries,
    utterance_location,
)
from lexicraft.services.documents import (
    LabeledDocument,
    check_label,
    check_language,
    labeled_document,
)
from lexicraft.storage.sql import documents as document_store
from lexicraft.storage.sql import projects as project_store

# How many offending utterances a conflict message names before "…".
_NAMED_IN_MESSAGES = 5


@dataclass(frozen=True, slots=True)
class NewUtterance:
    """An utterance to add: its text, intent and entity spans (code points)."""

    text: str
    intent: str
    spans: tuple[Span, ...] = ()
    dataset: Dataset | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class UtteranceChange:
    """What to change on an utterance; a None field (or ``change_dataset=False``) stays.

    A new ``text`` without ``spans`` clears the spans: they pointed into the old text.
    """

    text: str | None = None
    intent: str | None = None
    spans: tuple[Span, ...] | None = None
    change_dataset: bool = False
    dataset: Dataset | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """An intent or entity and how many utterances use it."""

    category: str
    utterances: int


@dataclass(frozen=True, slots=True)
class ConversationLabels:
    """A conversation project's intents and entities (with their components) and their usage."""

    project: Project
    assets: ConversationAssets
    intents: tuple[Usage, ...]
    entities: tuple[Usage, ...]


@dataclass(frozen=True, slots=True)
class EntityChange:
    """What to change on an entity: its name, and/or its list component's items."""

    category: str | None = None
    list_items: tuple[ListItem, ...] | None = None


# -- utterances --------------------------------------------------------------------------------


def add_utterance(
    context: ServiceContext, project_name: str, new: NewUtterance, *, actor: Actor
) -> LabeledDocument:
    """Append an utterance to the project, checked as an import checks it (``actor`` is
    recorded in its history)."""
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        count = len(document_store.list_locations(session, project_name))
        limit = context.settings.clu_max_utterances_per_project
        if count >= limit:
            raise Conflict(
                f"project {project_name!r} has {count} utterances, the limit "
                "(setting LEXICRAFT_CLU_MAX_UTTERANCES_PER_PROJECT)",
                target="text",
            )
        language = check_language(new.language) if new.language is not None else None
        taken = document_store.list_locations(session, project_name)
        document = Document(
            location=utterance_location(new.text, taken),
            text=new.text,
            language=language or project.language,
            dataset=new.dataset,
            spans=new.spans,
            classes=(new.intent,),
            labeled_by=actor.name,
        )
        document = _checked(context, project, assets, document)
        document_store.add_document(session, project_name, document)
        history.record(session, project, actor, DocumentAction.CREATED, None, document)
        return labeled_document(session, project, document)


def update_utterance(
    context: ServiceContext,
    project_name: str,
    location: str,
    change: UtteranceChange,
    *,
    actor: Actor,
) -> LabeledDocument:
    """Change an utterance's text, intent, spans, dataset or language (``actor`` is recorded
    in its history). A change of its text or labels clears its review."""
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        document = before = document_store.get_document(session, project_name, location)
        if change.text is not None and change.text != document.text:
            document = replace(document, text=change.text, spans=())
        if change.spans is not None:
            document = replace(document, spans=change.spans)
        if change.intent is not None:
            document = replace(document, classes=(change.intent,))
        if change.change_dataset:
            document = replace(document, dataset=change.dataset)
        if change.language is not None:
            document = replace(document, language=check_language(change.language))
        document = relabeled(before, _checked(context, project, assets, document), actor.name)
        document_store.save_document(session, project_name, document)
        history.record(session, project, actor, DocumentAction.UPDATED, before, document)
        return labeled_document(session, project, document)


def with_utterance_labels(
    context: ServiceContext,
    session: Session,
    project_name: str,
    document: Document,
    intent: str | None,
    spans: Sequence[Span] | None,
) -> Document:
    """The utterance ``document`` with ``intent`` and ``spans`` (None: as they are), checked
    by the import's rules as :func:`update_utterance` checks a change (for a reviewer's
    resolution, or an annotator's own version)."""
    project, assets = conversation_project(session, project_name)
    if intent is not None:
        document = replace(document, classes=(intent,))
    if spans is not None:
        document = replace(document, spans=tuple(spans))
    return _checked(context, project, assets, document)


# -- intents and entities ----------------------------------------------------------------------


def get_labels(context: ServiceContext, project_name: str) -> ConversationLabels:
    """The project's intents and entities, in order, with their usage."""
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        documents = project_store.list_documents(session, project_name)
    return _labels(project, assets, documents)


def add_intent(context: ServiceContext, project_name: str, category: str) -> ConversationLabels:
    """Declare a new intent (after the others)."""
    name = check_label(category, "category", "category")
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_new_name(name, assets.intents, "intent")
        changed = replace(assets, intents=(*assets.intents, name))
        return _save_assets(context, session, project, changed)


def rename_intent(
    context: ServiceContext,
    project_name: str,
    category: str,
    new_name: str,
    *,
    actor: Actor,
    merge: bool = False,
) -> ConversationLabels:
    """Rename an intent in the list and in every utterance that has it, in one transaction
    (each utterance's history names ``actor``). With ``merge``, a ``new_name`` the project has
    already takes ``category``'s utterances and ``category`` leaves the list; without, that is
    a conflict."""
    name = check_label(new_name, "category", "category")
    if NONE_INTENT in (category, name) and category != name:
        raise InvalidParameterValue(
            f"the {NONE_INTENT!r} intent cannot be renamed, nor another intent take its name",
            target="category",
        )
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_known(category, assets.intents, "intent")
        if name == category:
            return _labels(project, assets, project_store.list_documents(session, project_name))
        if merge and name in assets.intents:
            intents = tuple(intent for intent in assets.intents if intent != category)
        else:
            _check_new_name(name, assets.intents, "intent")
            intents = tuple(name if intent == category else intent for intent in assets.intents)
        before = [
            document
            for document in project_store.list_documents(session, project_name)
            if document.classes == (category,)
        ]
        renamed = [replace(document, classes=(name,)) for document in before]
        document_store.save_documents(session, project_name, renamed)
        for old, new in zip(before, renamed, strict=True):
            history.record(session, project, actor, DocumentAction.LABEL_RENAMED, old, new)
        return _save_assets(context, session, project, replace(assets, intents=intents))


def delete_intent(context: ServiceContext, project_name: str, category: str) -> ConversationLabels:
    """Remove an intent no utterance has (``None`` stays: every project has it)."""
    if category == NONE_INTENT:
        raise InvalidParameterValue(
            f"every conversation project has the {NONE_INTENT!r} intent; it cannot be removed",
            target="category",
        )
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_known(category, assets.intents, "intent")
        documents = project_store.list_documents(session, project_name)
        _check_unused(documents, category, "intent", lambda d: category in d.classes)
        intents = tuple(intent for intent in assets.intents if intent != category)
        return _save_assets(context, session, project, replace(assets, intents=intents))


def add_entity(context: ServiceContext, project_name: str, category: str) -> ConversationLabels:
    """Declare a new entity (learned only, until components are given)."""
    name = check_label(category, "category", "category")
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_new_name(name, assets.entity_categories, "entity")
        entities = (*assets.entities, ConversationEntity(category=name))
        return _save_assets(context, session, project, replace(assets, entities=entities))


def update_entity(
    context: ServiceContext,
    project_name: str,
    category: str,
    change: EntityChange,
    *,
    actor: Actor,
) -> ConversationLabels:
    """Rename an entity (in every utterance's spans too, each utterance's history naming
    ``actor``) and/or replace its list items."""
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_known(category, assets.entity_categories, "entity")
        entity = next(e for e in assets.entities if e.category == category)
        name = category
        if change.category is not None:
            name = check_label(change.category, "category", "category")
        if name != category:
            _check_new_name(name, assets.entity_categories, "entity")
            for document in project_store.list_documents(session, project_name):
                if any(span.category == category for span in document.spans):
                    spans = tuple(
                        Span(s.start, s.end, name) if s.category == category else s
                        for s in document.spans
                    )
                    renamed = replace(document, spans=spans)
                    document_store.save_document(session, project_name, renamed)
                    history.record(
                        session, project, actor, DocumentAction.LABEL_RENAMED, document, renamed
                    )
        updated = replace(entity, category=name)
        if change.list_items is not None:
            updated = replace(updated, list_items=change.list_items)
        entities = tuple(updated if e.category == category else e for e in assets.entities)
        return _save_assets(
            context, session, project, replace(assets, entities=entities), entity_fields=True
        )


def delete_entity(context: ServiceContext, project_name: str, category: str) -> ConversationLabels:
    """Remove an entity no utterance labels."""
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_known(category, assets.entity_categories, "entity")
        documents = project_store.list_documents(session, project_name)
        _check_unused(
            documents, category, "entity", lambda d: any(s.category == category for s in d.spans)
        )
        entities = tuple(e for e in assets.entities if e.category != category)
        return _save_assets(context, session, project, replace(assets, entities=entities))


# -- rules ---------------------------------------------------------------------------------------


def conversation_project(session: Session, project_name: str) -> tuple[Project, ConversationAssets]:
    """A conversation project and its intents (``None`` always among them) and entities; a
    custom text project is a 400."""
    project = project_store.get_project(session, project_name)
    if not project.kind.is_conversation:
        raise InvalidParameterValue(
            f"project {project_name!r} is a {project.kind.value} project, not a conversation "
            "project: label its documents under …/documents",
            target="projectName",
        )
    assets = project_store.get_conversation_assets(session, project_name)
    if NONE_INTENT not in assets.intents:
        # A project created by PATCH has no assets yet; every project has None (spec §2.4).
        assets = replace(assets, intents=(NONE_INTENT, *assets.intents))
    return project, assets


@contextmanager
def _targets(pattern: str, fallback: str) -> Iterator[None]:
    """Errors of the import's rules name fields of a project file; name the request's instead
    (``assets.utterances[0].entities[1].offset`` → ``entities[1].offset``): the part of the
    target ``pattern`` matches is cut off, ``fallback`` when nothing is left."""
    try:
        yield
    except LexicraftError as error:
        found = None if error.target is None else re.match(pattern, error.target)
        if error.target is not None and found is not None:
            old = error.target
            error.target = old[found.end() :].lstrip(".") or fallback
            error.message = error.message.replace(old, error.target)
        raise


def _checked(
    context: ServiceContext, project: Project, assets: ConversationAssets, document: Document
) -> Document:
    """``document`` as the import would store it, or the import's error for it."""
    entry = utterance_entries([_bounded(document)])[0]
    with _targets(r"assets\.utterances\[0\]", "text"):
        content = read_conversation_file(
            context.settings, ConversationFile(project, assets, (entry,))
        )
    checked = content.utterances[0]
    # The labels as the import reads them; the rest (who labeled it, its review) stays.
    return replace(document, spans=checked.spans, classes=checked.classes)


def _bounded(document: Document) -> Document:
    """Spans must lie in the text before they can be converted to the file's UTF-16 units."""
    size = len(document.text)
    for index, span in enumerate(document.spans):
        if not 0 <= span.start < span.end <= size:
            raise InvalidParameterValue(
                f"entities[{index}] (offset {span.start}, length {span.end - span.start}) is "
                f"empty or outside the utterance (0…{size} code points)",
                target=f"entities[{index}].offset",
            )
    return document


def _save_assets(
    context: ServiceContext,
    session: Session,
    project: Project,
    assets: ConversationAssets,
    *,
    entity_fields: bool = False,
) -> ConversationLabels:
    """Store new intents and entities once the import's rules accept them with every
    utterance (a renamed label, list items and limits are all checked)."""
    documents = project_store.list_documents(session, project.name)
    parsed = ConversationFile(project, assets, tuple(utterance_entries(documents)))
    # An entity's own fields (its list items) are the request's; any other asset error is
    # about the name the request gave.
    entity = r"assets\.entities(\[\d+\])?" if entity_fields else r"assets\.entities.*"
    with (
        _targets(r"assets\.intents.*", "category"),
        _targets(entity, "list" if entity_fields else "category"),
    ):
        read_conversation_file(context.settings, parsed)
    project_store.save_conversation_assets(session, project.name, assets)
    return _labels(project, assets, documents)


def _labels(
    project: Project, assets: ConversationAssets, documents: Sequence[Document]
) -> ConversationLabels:
    intents: Counter[str] = Counter()
    entities: Counter[str] = Counter()
    for document in documents:
        intents.update(document.classes)
        entities.update({span.category for span in document.spans})
    return ConversationLabels(
        project=project,
        assets=assets,
        intents=tuple(Usage(intent, intents[intent]) for intent in assets.intents),
        entities=tuple(Usage(name, entities[name]) for name in assets.entity_categories),
    )


def _check_new_name(name: str, taken: Sequence[str], what: str) -> None:
    if name in taken:
        raise Conflict(f"the project already has an {what} {name!r}", target="category")


def _check_known(name: str, known: Sequence[str], what: str) -> None:
    if name not in known:
        raise InvalidParameterValue(
            f"{name!r} is not an {what} of the project; its {what}s are {list(known)}",
            target="category",
        )


def _check_unused(
    documents: Sequence[Document], name: str, what: str, uses: Callable[[Document], bool]
) -> None:
    users = [d.location for d in documents if uses(d)]
    if users:
        named = ", ".join(repr(location) for location in users[:_NAMED_IN_MESSAGES])
        more = ", …" if len(users) > _NAMED_IN_MESSAGES else ""
        raise Conflict(
            f"{what} {name!r} is used by {len(users)} utterance(s) ({named}{more}); change "
            "them before removing it",
            target="category",
        )
