"""The Studio's labeling routes for conversation (CLU) projects (a Lexicraft extension).

``/language/lexicraft/projects/{p}/utterances…`` adds and changes one utterance (its text,
intent, entity spans, dataset); ``…/intents…`` and ``…/entities…`` add, rename and remove one
intent or entity (``…/{name}:rename`` also merges it into another of the name it is given);
``…/conversation`` lists them with their usage and the entities' components. Listing,
reading and deleting utterances are the document routes of :mod:`lexicraft.api.studio_api`,
which render an utterance's ``intent``. Offsets and lengths count code points.
``/language/lexicraft/training-config-versions/default`` names the version a training
request naming none trains with (the Studio preselects it). Each route validates its typed
body, calls one service, renders.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field, StrictStr

from lexicraft.api.authoring.responses import ok
from lexicraft.api.authoring.shared import CONVERSATIONS, TEXT
from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import Author, Labeler, needs
from lexicraft.api.requests import WireModel
from lexicraft.api.studio_api import (
    PREFIX,
    DatasetName,
    EntityLabel,
    LabeledDocumentRead,
    RenameInput,
    ResponseShape,
    render_labeled,
)
from lexicraft.domain.conversations import ConversationEntity, ListItem, Synonyms
from lexicraft.domain.spans import Span
from lexicraft.domain.users import Permission
from lexicraft.services import conversation_labeling, projects, training
from lexicraft.services.conversation_labeling import (
    ConversationLabels,
    ConversationRename,
    EntityChange,
    NewUtterance,
    UtteranceChange,
)
from lexicraft.wire.conversation_file import render_entity

router = APIRouter(tags=["studio"], responses=ERRORS)


def _spans(entities: list[EntityLabel] | None) -> tuple[Span, ...] | None:
    if entities is None:
        return None
    return tuple(Span(e.offset, e.offset + e.length, e.category) for e in entities)


class NewUtteranceInput(WireModel):
    """``POST …/utterances``: an utterance with its intent and entities (code points)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "book a flight to Paris",
                    "intent": "BookFlight",
                    "entities": [{"category": "City", "offset": 17, "length": 5}],
                    "dataset": "Train",
                }
            ]
        }
    )

    text: StrictStr
    intent: StrictStr = Field(default="None", description="Absent: the None intent.")
    entities: list[EntityLabel] = Field(default_factory=list)
    dataset: DatasetName = None
    language: StrictStr | None = None

    def to_new(self) -> NewUtterance:
        """The service's new utterance."""
        return NewUtterance(
            text=self.text,
            intent=self.intent,
            spans=_spans(self.entities) or (),
            dataset=self.dataset,
            language=self.language,
        )


class UtterancePatch(WireModel):
    """``PATCH …/utterances/{location}``: only the fields sent change; a new ``text``
    without ``entities`` clears the entities."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "intent": "BookFlight",
                    "entities": [{"category": "City", "offset": 17, "length": 5}],
                }
            ]
        }
    )

    text: StrictStr | None = None
    intent: StrictStr | None = None
    entities: list[EntityLabel] | None = None
    dataset: DatasetName = None
    language: StrictStr | None = None

    def to_change(self) -> UtteranceChange:
        """The service's change: None leaves a field as it is."""
        return UtteranceChange(
            text=self.text,
            intent=self.intent,
            spans=_spans(self.entities),
            # An explicit null clears the dataset; an absent one keeps it.
            change_dataset="dataset" in self.model_fields_set,
            dataset=self.dataset,
            language=self.language,
        )


class NameInput(WireModel):
    """``POST …/intents`` / ``…/entities``, ``PATCH …/intents/{name}``: a name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"category": "BookFlight"}]})

    category: StrictStr


class SynonymsInput(WireModel):
    """The words of a list item in one language (absent: every language)."""

    language: StrictStr | None = None
    values: list[StrictStr]


class SublistInput(WireModel):
    """One item of a list component: its key and synonyms."""

    list_key: StrictStr | None = None
    synonyms: list[SynonymsInput]


class ListInput(WireModel):
    """An entity's list component, as the project file writes it."""

    sublists: list[SublistInput]


class EntityPatch(WireModel):
    """``PATCH …/entities/{name}``: a new name and/or the list component's items."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "City",
                    "list": {
                        "sublists": [
                            {"listKey": "paris", "synonyms": [{"values": ["Paris", "CDG"]}]}
                        ]
                    },
                }
            ]
        }
    )

    category: StrictStr | None = None
    list_: ListInput | None = Field(default=None, alias="list")

    def to_change(self) -> EntityChange:
        """The service's change."""
        items = None
        if self.list_ is not None:
            items = tuple(
                ListItem(
                    sublist.list_key,
                    tuple(
                        Synonyms(words.language, tuple(words.values)) for words in sublist.synonyms
                    ),
                )
                for sublist in self.list_.sublists
            )
        return EntityChange(category=self.category, list_items=items)


# -- response shapes ---------------------------------------------------------------------------


class IntentRead(ResponseShape):
    """An intent and how many utterances have it."""

    category: str
    utterance_count: int


class SynonymsRead(ResponseShape):
    """The words of a list item in one language (absent: every language)."""

    language: str | None = None
    values: list[str]


class SublistRead(ResponseShape):
    """One item of a list component."""

    list_key: str | None = None
    synonyms: list[SynonymsRead]


class ListRead(ResponseShape):
    """An entity's list component."""

    sublists: list[SublistRead]


class PrebuiltRead(ResponseShape):
    """A prebuilt component."""

    category: str


class RegexExpressionRead(ResponseShape):
    """One pattern of a regex component."""

    regex_key: str | None = None
    language: str | None = None
    regex_pattern: str


class RegexRead(ResponseShape):
    """An entity's regex component."""

    expressions: list[RegexExpressionRead]


class EntityRead(ResponseShape):
    """An entity, its components as the project file writes them (absent ones left out),
    and how many utterances label it."""

    category: str
    composition_setting: str
    description: str | None = None
    list_: ListRead | None = Field(default=None, alias="list")
    prebuilts: list[PrebuiltRead] | None = None
    regex: RegexRead | None = None
    required_components: list[str] | None = None
    utterance_count: int


class ConversationLabelsRead(ResponseShape):
    """A conversation project's intents and entities."""

    project_kind: str
    intents: list[IntentRead]
    entities: list[EntityRead]


class ConversationRenameRead(ConversationLabelsRead):
    """The intents and entities after a rename, whether it merged two, and how many
    utterances changed."""

    merged: bool
    changed_utterances: int


class ProjectKindRead(ResponseShape):
    """Which authoring API a project lives under, by its kind."""

    project_name: str
    project_kind: str
    authoring_path: str


class DefaultTrainingConfigRead(ResponseShape):
    """The training config version used when a request names none."""

    training_config_version: str


def _render_labels(found: ConversationLabels) -> dict[str, Any]:
    definitions: dict[str, ConversationEntity] = {e.category: e for e in found.assets.entities}
    return {
        "projectKind": found.project.kind.value,
        "intents": [
            {"category": usage.category, "utteranceCount": usage.utterances}
            for usage in found.intents
        ],
        "entities": [
            {**render_entity(definitions[usage.category]), "utteranceCount": usage.utterances}
            for usage in found.entities
        ],
    }


def _render_rename(found: ConversationRename) -> dict[str, Any]:
    return {
        **_render_labels(found.labels),
        "merged": found.merged,
        "changedUtterances": found.utterances,
    }


# -- routes ------------------------------------------------------------------------------------


@router.get(
    "/language/lexicraft/training-config-versions/default",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(DefaultTrainingConfigRead),
)
def default_training_config_version() -> dict[str, Any]:
    return {"trainingConfigVersion": training.default_training_config_version()}


@router.get(
    PREFIX + "/{project_name}", dependencies=[needs(Permission.VIEW)], responses=ok(ProjectKindRead)
)
def get_project_kind(project_name: str, context: Context) -> dict[str, Any]:
    # The Studio opens a project by name alone; each authoring API answers 404 for the other's
    # projects, so it asks here first instead of probing both.
    project = projects.get_project(context, project_name)
    family = CONVERSATIONS.prefix if project.kind.is_conversation else TEXT.prefix
    return {
        "projectName": project.name,
        "projectKind": project.kind.value,
        "authoringPath": f"{family}/{project.name}",
    }


@router.post(
    PREFIX + "/{project_name}/utterances",
    status_code=201,
    responses={201: {"model": LabeledDocumentRead, "description": "Created."}},
)
def add_utterance(
    project_name: str, body: NewUtteranceInput, context: Context, actor: Labeler
) -> dict[str, Any]:
    new = body.to_new()
    return render_labeled(
        conversation_labeling.add_utterance(context, project_name, new, actor=actor)
    )


@router.patch(
    PREFIX + "/{project_name}/utterances/{location:path}", responses=ok(LabeledDocumentRead)
)
def update_utterance(
    project_name: str, location: str, body: UtterancePatch, context: Context, actor: Labeler
) -> dict[str, Any]:
    change = body.to_change()
    return render_labeled(
        conversation_labeling.update_utterance(context, project_name, location, change, actor=actor)
    )


@router.get(
    PREFIX + "/{project_name}/conversation",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(ConversationLabelsRead),
)
def get_conversation_labels(project_name: str, context: Context) -> dict[str, Any]:
    return _render_labels(conversation_labeling.get_labels(context, project_name))


@router.post(
    PREFIX + "/{project_name}/intents",
    dependencies=[needs(Permission.AUTHOR)],
    responses=ok(ConversationLabelsRead),
)
def add_intent(project_name: str, body: NameInput, context: Context) -> dict[str, Any]:
    return _render_labels(conversation_labeling.add_intent(context, project_name, body.category))


@router.patch(PREFIX + "/{project_name}/intents/{name}", responses=ok(ConversationLabelsRead))
def rename_intent(
    project_name: str, name: str, body: NameInput, context: Context, actor: Author
) -> dict[str, Any]:
    found = conversation_labeling.rename_intent(
        context, project_name, name, body.category, actor=actor
    )
    return _render_labels(found.labels)


@router.post(PREFIX + "/{project_name}/intents/{name}:rename", responses=ok(ConversationRenameRead))
def rename_or_merge_intent(
    project_name: str, name: str, body: RenameInput, context: Context, actor: Author
) -> dict[str, Any]:
    # As …/labels/{name}:rename for entity types and classes: another intent's name merges.
    found = conversation_labeling.rename_intent(
        context, project_name, name, body.new_name, merge=True, actor=actor
    )
    return _render_rename(found)


@router.delete(
    PREFIX + "/{project_name}/intents/{name}",
    dependencies=[needs(Permission.AUTHOR)],
    responses=ok(ConversationLabelsRead),
)
def delete_intent(project_name: str, name: str, context: Context) -> dict[str, Any]:
    return _render_labels(conversation_labeling.delete_intent(context, project_name, name))


@router.post(
    PREFIX + "/{project_name}/entities",
    dependencies=[needs(Permission.AUTHOR)],
    responses=ok(ConversationLabelsRead),
)
def add_entity(project_name: str, body: NameInput, context: Context) -> dict[str, Any]:
    return _render_labels(conversation_labeling.add_entity(context, project_name, body.category))


@router.patch(PREFIX + "/{project_name}/entities/{name}", responses=ok(ConversationLabelsRead))
def update_entity(
    project_name: str, name: str, body: EntityPatch, context: Context, actor: Author
) -> dict[str, Any]:
    change = body.to_change()
    found = conversation_labeling.update_entity(context, project_name, name, change, actor=actor)
    return _render_labels(found)


@router.post(
    PREFIX + "/{project_name}/entities/{name}:rename", responses=ok(ConversationRenameRead)
)
def rename_or_merge_entity(
    project_name: str, name: str, body: RenameInput, context: Context, actor: Author
) -> dict[str, Any]:
    # As the intents' :rename: another entity's name merges the two, definitions included.
    found = conversation_labeling.rename_entity(
        context, project_name, name, body.new_name, actor=actor
    )
    return _render_rename(found)


@router.delete(
    PREFIX + "/{project_name}/entities/{name}",
    dependencies=[needs(Permission.AUTHOR)],
    responses=ok(ConversationLabelsRead),
)
def delete_entity(project_name: str, name: str, context: Context) -> dict[str, Any]:
    return _render_labels(conversation_labeling.delete_entity(context, project_name, name))
