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
    merged_entity,
)
from lexicraft.domain.history import DocumentAction
from lexicraft.domain.projects import Dataset, Document, Project
from lexicraft.domain.review import relabeled
from lexicraft.domain.spans import Span, first_overlap
from lexicraft.domain.users import Actor
from lexicraft.errors import Conflict, InvalidParameterValue, LabelNotFound, LexicraftError
from lexicraft.services import history
from lexicraft.services.context import ServiceContext
from lexicraft.services.conversation_files import (
    read_conversation_file,
    utterance_entries,
    utterance_location,
)
from lexicraft.services.documents import (
    LabeledDocument,
    Renaming,
    check_label,
    check_language,
    label_renaming,
    labeled_document,
    store_renaming,
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
class ConversationRename:
    """The intents and entities after a rename, whether it merged two, and how many
    utterances changed."""

    labels: ConversationLabels
    merged: bool
    utterances: int


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
) -> ConversationRename:
    """Rename an intent in the list, in every utterance that has it and in every annotator's
    own version, in one transaction (each utterance's history names ``actor``). With
    ``merge``, a ``new_name`` the project has already takes ``category``'s utterances and
    ``category`` leaves the list; without, that is a conflict."""
    name = check_label(new_name, "category", "category")
    if NONE_INTENT in (category, name) and category != name:
        raise InvalidParameterValue(
            f"the {NONE_INTENT!r} intent cannot be renamed, nor another intent take its name",
            target="category",
        )
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_known(category, assets.intents, "intent")
        documents = project_store.list_documents(session, project_name)
        if name == category:
            return ConversationRename(_labels(project, assets, documents), False, 0)
        merged = merge and name in assets.intents
        if merged:
            intents = tuple(intent for intent in assets.intents if intent != category)
        else:
            _check_new_name(name, assets.intents, "intent")
            intents = tuple(name if intent == category else intent for intent in assets.intents)
        renaming = label_renaming(session, project_name, documents, category, name, in_spans=False)
        store_renaming(session, project, renaming, actor)
        labels = _save_assets(context, session, project, replace(assets, intents=intents))
        return ConversationRename(labels, merged, len(renaming.documents))


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
    """Rename an entity (as :func:`rename_entity` does, but another entity's name is a
    conflict, not a merge) and/or replace its list items."""
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        _check_known(category, assets.entity_categories, "entity")
        name = category
        if change.category is not None:
            name = check_label(change.category, "category", "category")
        if name != category:
            _check_new_name(name, assets.entity_categories, "entity")
            assets, _ = _rename_entity(session, project, assets, category, name, actor=actor)
        if change.list_items is not None:
            entities = tuple(
                replace(e, list_items=change.list_items) if e.category == name else e
                for e in assets.entities
            )
            assets = replace(assets, entities=entities)
        return _save_assets(context, session, project, assets, entity_fields=True)


def rename_entity(
    context: ServiceContext, project_name: str, category: str, new_name: str, *, actor: Actor
) -> ConversationRename:
    """Rename entity ``category`` to ``new_name`` in one transaction: in every utterance's
    spans, every annotator's own version and the project's entity definitions (each changed
    utterance's history names ``actor``). A ``new_name`` the project has already merges
    ``category`` into that entity: spans that then duplicate one another collapse into one,
    and the two definitions become one (:func:`~lexicraft.domain.conversations.merged_entity`
    says how, and when they cannot: a 409). Spans of the two entities that overlap without
    being the same are a 409 too: one entity's spans may not overlap."""
    name = check_label(new_name, "newName", "newName")
    with context.database.session() as session:
        project, assets = conversation_project(session, project_name)
        if category not in assets.entity_categories:
            raise LabelNotFound(
                f"project {project_name!r} has no entity {category!r}; its entities are "
                f"{list(assets.entity_categories)}",
                target="category",
            )
        if name == category:
            documents = project_store.list_documents(session, project_name)
            return ConversationRename(_labels(project, assets, documents), False, 0)
        merged = name in assets.entity_categories
        assets, changed = _rename_entity(session, project, assets, category, name, actor=actor)
        labels = _save_assets(context, session, project, assets, name_field="newName")
        return ConversationRename(labels, merged, changed)


def _rename_entity(
    session: Session,
    project: Project,
    assets: ConversationAssets,
    category: str,
    name: str,
    *,
    actor: Actor,
) -> tuple[ConversationAssets, int]:
    """Store entity ``category`` as ``name`` in every utterance and annotator's version of
    ``project``; the definitions with it renamed (or merged into entity ``name``: its place in
    the list stays), for the caller to check and store, and how many utterances changed."""
    documents = project_store.list_documents(session, project.name)
    renaming = label_renaming(session, project.name, documents, category, name, in_classes=False)
    kept = next((e for e in assets.entities if e.category == name), None)
    old = next(e for e in assets.entities if e.category == category)
    if kept is None:
        renamed = replace(old, category=name)
        entities = tuple(renamed if e.category == category else e for e in assets.entities)
    else:
        _check_apart(renaming, category, name)
        combined = merged_entity(kept, old, target="newName")
        entities = tuple(
            combined if e.category == name else e for e in assets.entities if e.category != category
        )
    store_renaming(session, project, renaming, actor)
    return replace(assets, entities=entities), len(renaming.documents)


def _check_apart(renaming: Renaming, category: str, name: str) -> None:
    """A merge of ``category`` into ``name`` must leave no two spans of ``name`` overlapping
    (one entity's labels may not) in an utterance or an annotator's version of one; the same
    span twice is fine (it collapses into one)."""

    def clash(spans: Sequence[Span]) -> bool:
        return first_overlap([span for span in spans if span.category == name]) is not None

    places = [after.location for _, after in renaming.documents if clash(after.spans)]
    places += [
        f"{version.location} ({version.annotator}'s version)"
        for version in renaming.versions
        if clash(version.spans)
    ]
    if places:
        named = ", ".join(repr(place) for place in places[:_NAMED_IN_MESSAGES])
        more = ", …" if len(places) > _NAMED_IN_MESSAGES else ""
        raise Conflict(
            f"spans of entities {category!r} and {name!r} overlap without being the same in "
            f"{len(places)} utterance(s) ({named}{more}), and one entity's spans may not "
            f"overlap: change those spans before merging {category!r} into {name!r}",
            target="newName",
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
    name_field: str = "category",
) -> ConversationLabels:
    """Store new intents and entities once the import's rules accept them with every
    utterance (a renamed label, list items and limits are all checked); errors about them
    name ``name_field``, the request's field with the new name."""
    documents = project_store.list_documents(session, project.name)
    parsed = ConversationFile(project, assets, tuple(utterance_entries(documents)))
    # An entity's own fields (its list items) are the request's; any other asset error is
    # about the name the request gave.
    entity = r"assets\.entities(\[\d+\])?" if entity_fields else r"assets\.entities.*"
    with (
        _targets(r"assets\.intents.*", name_field),
        _targets(entity, "list" if entity_fields else name_field),
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
