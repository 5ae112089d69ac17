"""The conversation (CLU) project file and project options (spec CLU §2.3, §2.4).

One codec for the API's ``:import`` body and its export, the create/patch body, and the CLI:
the wire shape is the parser. Field types carry the plain rules; rules with their own Azure
code (a kind that is not ``Conversation``, a name listed twice, an utterance naming an intent
the file does not declare…) raise that error with the field's path. Label offsets stay UTF-16
code units here; ``services.conversation_files`` checks them against each text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    field_validator,
)

from lexicraft.domain.conversation_files import ConversationFile, UtteranceEntry
from lexicraft.domain.conversations import (
    NONE_INTENT,
    CompositionSetting,
    ConversationAssets,
    ConversationEntity,
    EntityComponent,
    ListItem,
    RegexExpression,
    Synonyms,
)
from lexicraft.domain.project_files import RawLabel
from lexicraft.domain.projects import CONVERSATION_KINDS, Dataset, Project, ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue, InvalidProjectContent
from lexicraft.wire.base import WireModel, parse
from lexicraft.wire.project_file import (
    CreateProjectOptions,
    DatasetName,
    ProjectPatchBody,
    index_type,
)

#: The project file version an export writes (the GA version of the CLU file).
CONVERSATION_FILE_VERSION = "2023-04-01"


def conversation_kind(value: object) -> ProjectKind:
    """``Conversation`` in any letter case; ``Orchestration`` and the rest are not supported."""
    return ProjectKind.parse(value, CONVERSATION_KINDS)


ConversationKind = Annotated[ProjectKind, BeforeValidator(conversation_kind)]


def _check_settings(settings: dict[str, Any] | None, where: str) -> dict[str, Any] | None:
    """``settings.confidenceThreshold`` is required inside settings, a number in 0 … 1.
    Other settings (``normalizeCasing``…) are kept and echoed, as the spec advises."""
    if settings is None:
        return None
    threshold = settings.get("confidenceThreshold")
    target = f"{where}.confidenceThreshold"
    if threshold is None:
        raise InvalidParameterValue(f"{target} is required", target=target)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise InvalidParameterValue(f"{target} must be a number", target=target)
    if not 0.0 <= threshold <= 1.0:
        raise InvalidParameterValue(f"{target} {threshold!r} is not between 0 and 1", target=target)
    return settings


_EXAMPLE_OPTIONS: dict[str, Any] = {
    "projectKind": "Conversation",
    "projectName": "EmailApp",
    "language": "en-us",
    "multilingual": False,
    "description": "Send and read email.",
    "settings": {"confidenceThreshold": 0.5},
}


class ConversationOptions(CreateProjectOptions):
    """A conversation project's metadata: the create body and the file's ``metadata``.

    No storage container: utterances are inline (a ``storageInputContainerName`` sent by a
    newer SDK model is ignored).
    """

    project_kind: ConversationKind
    storage_input_container_name: StrictStr | None = None  # type: ignore[assignment]

    @field_validator("settings")
    @classmethod
    def _settings(cls, settings: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_settings(settings, "metadata.settings")


class ConversationPatchBody(ProjectPatchBody):
    """``PATCH …/analyze-conversations/projects/{projectName}``: the metadata as a merge-patch.

    A new project needs ``projectKind`` and ``language``.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_OPTIONS]})

    project_kind: ConversationKind | None = None

    @field_validator("settings")
    @classmethod
    def _settings(cls, settings: dict[str, Any] | None) -> dict[str, Any] | None:
        return _check_settings(settings, "settings")


# -- assets -----------------------------------------------------------------------------------


class IntentBody(WireModel):
    """An intent of the project."""

    category: StrictStr
    description: StrictStr | None = None


class SynonymsBody(WireModel):
    """The words of a list item in one language."""

    language: StrictStr | None = None
    values: list[StrictStr] = Field(default_factory=list)


class SublistBody(WireModel):
    """One item of a list component: its key and synonyms."""

    list_key: StrictStr | None = None
    synonyms: list[SynonymsBody] = Field(default_factory=list)


class ListComponentBody(WireModel):
    """An entity's list component."""

    sublists: list[SublistBody] = Field(default_factory=list)


class PrebuiltBody(WireModel):
    """A prebuilt component, e.g. ``Quantity.Number``."""

    category: StrictStr


class RegexExpressionBody(WireModel):
    """One pattern of a regex component."""

    regex_key: StrictStr | None = None
    language: StrictStr | None = None
    regex_pattern: StrictStr | None = None


class RegexComponentBody(WireModel):
    """An entity's regex component."""

    expressions: list[RegexExpressionBody] = Field(default_factory=list)


class EntityBody(WireModel):
    """An entity and its components."""

    category: StrictStr
    description: StrictStr | None = None
    composition_setting: CompositionSetting | None = None
    list_: ListComponentBody | None = Field(default=None, alias="list")
    prebuilts: list[PrebuiltBody] | None = None
    regex: RegexComponentBody | None = None
    required_components: list[EntityComponent] | None = None

    def to_entity(self) -> ConversationEntity:
        return ConversationEntity(
            category=self.category,
            composition=self.composition_setting or CompositionSetting.COMBINE_COMPONENTS,
            description=self.description,
            list_items=tuple(
                ListItem(
                    sublist.list_key,
                    tuple(Synonyms(s.language, tuple(s.values)) for s in sublist.synonyms),
                )
                for sublist in (self.list_.sublists if self.list_ is not None else [])
            ),
            prebuilts=tuple(prebuilt.category for prebuilt in self.prebuilts or []),
            regexes=tuple(
                RegexExpression(e.regex_key, e.language, e.regex_pattern or "")
                for e in (self.regex.expressions if self.regex is not None else [])
            ),
            required_components=tuple(self.required_components or ()),
        )


class UtteranceLabelBody(WireModel):
    """An entity labelled in an utterance: UTF-16 offset and length from the text's start."""

    category: StrictStr
    offset: StrictInt
    length: StrictInt


class UtteranceBody(WireModel):
    """An utterance: its text, its one intent and its entities."""

    text: StrictStr
    intent: StrictStr
    language: StrictStr | None = None
    dataset: DatasetName = None
    entities: list[UtteranceLabelBody] | None = None

    def to_entry(self) -> UtteranceEntry:
        return UtteranceEntry(
            text=self.text,
            intent=self.intent,
            language=self.language,
            dataset=self.dataset,
            labels=tuple(RawLabel(e.category, e.offset, e.length) for e in self.entities or []),
        )


class ConversationAssetsBody(WireModel):
    """The intents, entities and utterances of a conversation project."""

    project_kind: StrictStr | None = None
    intents: list[IntentBody] | None = None
    entities: list[EntityBody] | None = None
    utterances: list[UtteranceBody] | None = None


class ConversationFileBody(WireModel):
    """The exported conversation project: ``POST …/{projectName}/:import``'s body."""

    project_file_version: StrictStr = Field(
        validation_alias=AliasChoices("projectFileVersion", "project-file-version")
    )
    string_index_type: Annotated[StringIndexType, BeforeValidator(index_type)]
    metadata: ConversationOptions
    assets: ConversationAssetsBody | None = None

    def to_conversation_file(self, project_name: str) -> ConversationFile:
        """The file's project, intents, entities and utterances; the rules that need no text
        checked (kinds agree, names listed once). Utterance content is checked by
        ``services.conversation_files``."""
        project = self.metadata.to_project(project_name)
        assets = self.assets or ConversationAssetsBody()
        if assets.project_kind is not None:
            given = conversation_kind_at(assets.project_kind, "assets.projectKind")
            if given is not project.kind:
                raise InvalidParameterValue(
                    f"assets.projectKind {assets.project_kind!r} does not match "
                    f"metadata.projectKind {project.kind.value!r}",
                    target="assets.projectKind",
                )
        intents = _unique((i.category for i in assets.intents or []), "assets.intents")
        if NONE_INTENT not in intents:
            intents = (NONE_INTENT, *intents)  # every project has it (spec CLU §2.4)
        entities = [entity.to_entity() for entity in assets.entities or []]
        _unique((entity.category for entity in entities), "assets.entities")
        return ConversationFile(
            project=project,
            assets=ConversationAssets(intents=intents, entities=tuple(entities)),
            utterances=tuple(utterance.to_entry() for utterance in assets.utterances or []),
        )


def conversation_kind_at(value: str, target: str) -> ProjectKind:
    """:func:`conversation_kind`, its error naming ``target``."""
    try:
        return conversation_kind(value)
    except InvalidParameterValue as error:
        raise InvalidParameterValue(error.message, target=target) from None


def _unique(names: Iterable[str], where: str) -> tuple[str, ...]:
    seen: list[str] = []
    for index, name in enumerate(names):
        if name in seen:
            raise InvalidProjectContent(
                f"{where} lists {name!r} twice", target=f"{where}[{index}].category"
            )
        seen.append(name)
    return tuple(seen)


def parse_conversation_file(body: object, project_name: str) -> ConversationFile:
    """A decoded conversation project file → :class:`ConversationFile`, or its Azure error."""
    return parse(ConversationFileBody, body).to_conversation_file(project_name)


# -- rendering --------------------------------------------------------------------------------


def render_conversation_metadata(project: Project) -> dict[str, Any]:
    """A conversation project's metadata (no storage container)."""
    return {
        "projectKind": project.kind.value,
        "projectName": project.name,
        "multilingual": project.multilingual,
        "description": project.description or "",
        "language": project.language,
        # Every CLU project has a threshold (0: always the best intent); shown even when the
        # project was created without settings, so that its export imports again.
        "settings": {"confidenceThreshold": 0.0, **project.settings},
    }


def render_entity(entity: ConversationEntity) -> dict[str, Any]:
    """An entity definition as the file writes it (absent components left out)."""
    rendered: dict[str, Any] = {
        "category": entity.category,
        "compositionSetting": entity.composition.value,
    }
    if entity.description is not None:
        rendered["description"] = entity.description
    if entity.list_items:
        rendered["list"] = {
            "sublists": [
                {
                    **({} if item.key is None else {"listKey": item.key}),
                    "synonyms": [
                        {
                            **({} if words.language is None else {"language": words.language}),
                            "values": list(words.values),
                        }
                        for words in item.synonyms
                    ],
                }
                for item in entity.list_items
            ]
        }
    if entity.prebuilts:
        rendered["prebuilts"] = [{"category": category} for category in entity.prebuilts]
    if entity.regexes:
        rendered["regex"] = {
            "expressions": [
                {
                    **({} if regex.key is None else {"regexKey": regex.key}),
                    **({} if regex.language is None else {"language": regex.language}),
                    "regexPattern": regex.pattern,
                }
                for regex in entity.regexes
            ]
        }
    if entity.required_components:
        rendered["requiredComponents"] = [c.value for c in entity.required_components]
    return rendered


def render_conversation_file(
    project: Project, assets: ConversationAssets, utterances: Sequence[UtteranceEntry]
) -> dict[str, Any]:
    """The CLU project file (UTF-16 offsets): what ``:export`` serves."""
    return {
        "projectFileVersion": CONVERSATION_FILE_VERSION,
        "stringIndexType": StringIndexType.UTF16.value,
        "metadata": render_conversation_metadata(project),
        "assets": {
            "projectKind": project.kind.value,
            "intents": [{"category": intent} for intent in assets.intents],
            "entities": [render_entity(entity) for entity in assets.entities],
            "utterances": [_render_utterance(utterance) for utterance in utterances],
        },
    }


def _render_utterance(utterance: UtteranceEntry) -> dict[str, Any]:
    rendered: dict[str, Any] = {"text": utterance.text, "intent": utterance.intent}
    if utterance.language is not None:
        rendered["language"] = utterance.language
    if utterance.dataset is not None:
        rendered["dataset"] = Dataset(utterance.dataset).value
    rendered["entities"] = [
        {"category": label.category, "offset": label.offset, "length": label.length}
        for label in utterance.labels
    ]
    return rendered


__all__ = [
    "CONVERSATION_FILE_VERSION",
    "ConversationFileBody",
    "ConversationOptions",
    "ConversationPatchBody",
    "parse_conversation_file",
    "render_conversation_file",
]
