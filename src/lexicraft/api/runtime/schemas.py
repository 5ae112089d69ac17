"""Typed analyze request bodies of both runtime wire families (spec §1.2, §2.1, §2.2).

Each model validates one body and turns it into the service's wire-neutral
:class:`AnalysisRequest`. Field types carry the plain rules (a string, a non-empty list…) and
:func:`lexicraft.api.errors.validation_error` words their failures as Azure errors; the rules
that need their own Azure code (no documents, an unsupported kind or task list) raise that
:class:`LexicraftError` from a validator, which pydantic lets through unchanged.

Parsing is lenient where clients differ (kind and ``stringIndexType`` spellings, camel-cased
legacy parameters, ct.1's ``modelId``) and strict where a silent guess would hide a mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictStr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from lexicraft.api.requests import WireModel
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import (
    InvalidParameterValue,
    InvalidRequestBody,
    MissingInputDocuments,
    MissingInputRecords,
)
from lexicraft.services.analysis import AnalysisRequest, AnalysisTask, ApiFamily, InputDocument
from lexicraft.services.conversation_runtime import ConversationQuery

_CUSTOM_KINDS = {kind.value.lower(): kind for kind in ProjectKind}
_SUPPORTED = [kind.value for kind in ProjectKind]

#: Legacy task lists (spec §2.1, §2.2) and the project kind each one runs.
LEGACY_GROUPS: Mapping[str, ProjectKind] = {
    "customEntityRecognitionTasks": ProjectKind.ENTITY_RECOGNITION,
    "customSingleClassificationTasks": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    # v3.1-preview.ct.1's name for single-label classification.
    "customClassificationTasks": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    "customMultiClassificationTasks": ProjectKind.MULTI_LABEL_CLASSIFICATION,
}


def custom_kind(value: object) -> ProjectKind | None:
    """The custom task kind ``value`` names (any letter case), or None."""
    return _CUSTOM_KINDS.get(value.lower()) if isinstance(value, str) else None


def _parse_index_type(value: object) -> StringIndexType:
    # Every version's default is text elements (spec §3); v3.x's spelling is accepted too.
    return StringIndexType.parse(value, StringIndexType.TEXT_ELEMENTS)


#: ``stringIndexType`` of a runtime task: case-insensitive, ``TextElement_v8`` too.
IndexType = Annotated[StringIndexType, BeforeValidator(_parse_index_type)]

NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]


# -- documents (both families) ----------------------------------------------------------------


class WireDocument(WireModel):
    """One document to analyze."""

    id: NonEmptyStr
    text: StrictStr
    language: StrictStr | None = None


class MultiLanguageAnalysisInput(WireModel):
    """``analysisInput``: the documents (spec §1.2, §2.1)."""

    documents: list[WireDocument] | None = None


def _require_documents(
    analysis_input: MultiLanguageAnalysisInput | None, missing: type[MissingInputDocuments]
) -> MultiLanguageAnalysisInput:
    # Each family has its own inner code for "no documents" (spec §0.1), hence ``missing``.
    if analysis_input is None or not analysis_input.documents:
        raise missing(
            "the request has no documents; send them in analysisInput.documents",
            target="analysisInput.documents",
        )
    return analysis_input


def _documents(
    analysis_input: MultiLanguageAnalysisInput, default_language: str | None
) -> tuple[InputDocument, ...]:
    assert analysis_input.documents  # _require_documents ran
    return tuple(
        InputDocument(document.id, document.text, document.language or default_language)
        for document in analysis_input.documents
    )


# -- Language API (spec §1.2) -------------------------------------------------------------------


class CustomTaskParameters(WireModel):
    """The parameters of every custom task (classification ignores ``stringIndexType``)."""

    project_name: NonEmptyStr
    deployment_name: NonEmptyStr
    string_index_type: IndexType = StringIndexType.TEXT_ELEMENTS
    logging_opt_out: bool | None = Field(default=None, description="Accepted and ignored.")


class _CustomTask(WireModel):
    # Clients match results by taskName, so one is always echoed; absent, it is the index.
    task_name: StrictStr | None = None
    parameters: CustomTaskParameters

    def to_task(self, kind: ProjectKind, index: int) -> AnalysisTask:
        parameters = self.parameters
        return AnalysisTask(
            kind=kind,
            task_name=str(index) if self.task_name is None else self.task_name,
            project_name=parameters.project_name,
            deployment_name=parameters.deployment_name,
            string_index_type=parameters.string_index_type,
        )


class CustomEntityRecognitionTask(_CustomTask):
    """A custom NER task."""

    kind: Literal["CustomEntityRecognition"]


class CustomSingleLabelClassificationTask(_CustomTask):
    """A custom single-label classification task."""

    kind: Literal["CustomSingleLabelClassification"]


class CustomMultiLabelClassificationTask(_CustomTask):
    """A custom multi-label classification task."""

    kind: Literal["CustomMultiLabelClassification"]


LanguageTask = Annotated[
    CustomEntityRecognitionTask
    | CustomSingleLabelClassificationTask
    | CustomMultiLabelClassificationTask,
    Field(discriminator="kind"),
]


def _canonical_kinds(raw_tasks: object) -> object:
    """Each task's ``kind`` in its canonical spelling, or the Azure error for a bad one.

    Kinds are matched case-insensitively (clients differ), and an unsupported kind is
    ``InvalidParameterValue`` (a prebuilt task is valid Azure, just not served here), not the
    body-format error the union's tag check would give. Anything not a list of objects is
    left to the field types.
    """
    if not isinstance(raw_tasks, list):
        return raw_tasks
    canonical: list[object] = []
    for index, raw in enumerate(raw_tasks):
        if not isinstance(raw, dict):
            canonical.append(raw)
            continue
        where = f"tasks[{index}].kind"
        value = raw.get("kind")
        if value is None:
            raise InvalidRequestBody(f"{where} is required; use one of {_SUPPORTED}", target=where)
        kind = custom_kind(value)
        if kind is None:
            raise InvalidParameterValue(
                f"task kind {value!r} is not supported: Lexicraft serves custom models only; "
                f"use one of {_SUPPORTED}",
                target=where,
            )
        canonical.append({**raw, "kind": kind.value})
    return canonical


#: A document for the bodies' documented examples (which Swagger UI and the fuzzer send).
_EXAMPLE_DOCUMENTS: JsonDict = {
    "documents": [
        {"id": "1", "language": "en", "text": "Marcus Bell met François Dubois in Vienna."}
    ]
}


class AnalyzeTextJobsInput(WireModel):
    """``POST /language/analyze-text/jobs``: documents and one or more custom tasks."""

    # Azure requires both; analysisInput is optional here only so that its absence gets the
    # family's "no documents" error, so the docs still say required.
    model_config = ConfigDict(
        json_schema_extra={
            "required": ["analysisInput", "tasks"],
            "examples": [
                {
                    "displayName": "Extracting entities",
                    "analysisInput": _EXAMPLE_DOCUMENTS,
                    "tasks": [
                        {
                            "kind": "CustomEntityRecognition",
                            "taskName": "entities",
                            "parameters": {
                                "projectName": "myProject",
                                "deploymentName": "production",
                                "stringIndexType": "Utf16CodeUnit",
                            },
                        }
                    ],
                }
            ],
        }
    )

    display_name: StrictStr | None = None
    # validate_default: an absent analysisInput is MissingInputDocuments, not "required".
    analysis_input: MultiLanguageAnalysisInput | None = Field(default=None, validate_default=True)
    tasks: list[LanguageTask] = Field(min_length=1)
    default_language: StrictStr | None = Field(
        default=None, description="The language of documents that name none (newer previews)."
    )

    @field_validator("analysis_input")
    @classmethod
    def _has_documents(cls, value: MultiLanguageAnalysisInput | None) -> MultiLanguageAnalysisInput:
        return _require_documents(value, MissingInputDocuments)

    @field_validator("tasks", mode="before")
    @classmethod
    def _kinds(cls, value: object) -> object:
        return _canonical_kinds(value)

    def to_request(self) -> AnalysisRequest:
        """The wire-neutral request the analysis service takes."""
        assert self.analysis_input is not None  # _has_documents ran
        return AnalysisRequest(
            documents=_documents(self.analysis_input, self.default_language),
            tasks=tuple(
                task.to_task(ProjectKind(task.kind), index) for index, task in enumerate(self.tasks)
            ),
            family=ApiFamily.LANGUAGE,
            display_name=self.display_name,
        )


class AnalyzeTextInput(WireModel):
    """``POST /language/:analyze-text``: Azure's synchronous API, which has no custom tasks.

    Only ``kind`` is read, to say where a custom task belongs; the rest of Azure's shape
    (``analysisInput``, ``parameters``) is ignored.
    """

    kind: StrictStr


# -- legacy Text Analytics v3.x previews (spec §2.1, §2.2) -------------------------------------


class LegacyTaskParameters(WireModel):
    """A legacy custom task's parameters: hyphenated names, or ct.1's ``modelId``."""

    # Both spellings: v3.2-preview documents the hyphenated one, old scripts send camelCase.
    project_name: NonEmptyStr | None = Field(
        default=None, validation_alias=AliasChoices("project-name", "projectName")
    )
    deployment_name: NonEmptyStr | None = Field(
        default=None, validation_alias=AliasChoices("deployment-name", "deploymentName")
    )
    model_id: NonEmptyStr | None = Field(
        default=None, description="v3.1-preview.ct.1: a trained model instead of a deployment."
    )
    string_index_type: IndexType = StringIndexType.TEXT_ELEMENTS


class LegacyTask(WireModel):
    """One task of a legacy task list."""

    task_name: StrictStr | None = None
    parameters: LegacyTaskParameters

    def to_task(self, kind: ProjectKind, group: str, index: int, where: str) -> AnalysisTask:
        """The task; ``index`` counts across every list, ``where`` names it in errors."""
        parameters = self.parameters
        project, deployment = parameters.project_name, parameters.deployment_name
        # v3.1-preview.ct.1 addressed a trained model directly; the service finds its project.
        by_model = parameters.model_id is not None and (project is None or deployment is None)
        if not by_model and (project is None or deployment is None):
            raise InvalidRequestBody(
                f"{where}.parameters needs 'project-name' and 'deployment-name'",
                target=f"{where}.parameters",
            )
        return AnalysisTask(
            kind=kind,
            task_name=str(index) if self.task_name is None else self.task_name,
            project_name=project or "",
            deployment_name=None if by_model else deployment,
            string_index_type=parameters.string_index_type,
            model_id=parameters.model_id if by_model else None,
            group=group,
        )


class LegacyTasks(WireModel):
    """The legacy ``tasks`` object: one list per task type; only the custom lists are served.

    Prebuilt lists (``entityRecognitionTasks``…) are accepted when empty, refused otherwise.
    """

    model_config = ConfigDict(extra="allow")

    custom_entity_recognition_tasks: list[LegacyTask] = Field(default_factory=list)
    custom_single_classification_tasks: list[LegacyTask] = Field(default_factory=list)
    custom_classification_tasks: list[LegacyTask] = Field(
        default_factory=list,
        description="v3.1-preview.ct.1's name for single-label classification.",
    )
    custom_multi_classification_tasks: list[LegacyTask] = Field(default_factory=list)
    _tasks: tuple[AnalysisTask, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _custom_lists_only(self) -> LegacyTasks:
        for group, raw_tasks in (self.model_extra or {}).items():
            if raw_tasks:
                raise InvalidParameterValue(
                    f"tasks.{group} is not supported: Lexicraft serves custom models only; "
                    f"use {sorted(LEGACY_GROUPS)}",
                    target=f"tasks.{group}",
                )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _in_request_order(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> LegacyTasks:
        # Default task names and job-error pointers follow the order the client sent the
        # lists in, which only the raw object still has.
        tasks: LegacyTasks = handler(data)
        assert isinstance(data, dict)  # handler() refused anything else
        tasks._tasks = tasks._in_order([group for group in data if group in LEGACY_GROUPS])
        return tasks

    def _in_order(self, groups: list[str]) -> tuple[AnalysisTask, ...]:
        lists = {
            "customEntityRecognitionTasks": self.custom_entity_recognition_tasks,
            "customSingleClassificationTasks": self.custom_single_classification_tasks,
            "customClassificationTasks": self.custom_classification_tasks,
            "customMultiClassificationTasks": self.custom_multi_classification_tasks,
        }
        tasks: list[AnalysisTask] = []
        for group in groups:
            for position, task in enumerate(lists[group]):
                where = f"tasks.{group}[{position}]"
                tasks.append(task.to_task(LEGACY_GROUPS[group], group, len(tasks), where))
        if not tasks:
            raise InvalidRequestBody(
                f"tasks must contain at least one task in one of {sorted(LEGACY_GROUPS)}",
                target="tasks",
            )
        return tuple(tasks)

    def to_tasks(self) -> tuple[AnalysisTask, ...]:
        """Every task, list by list in request order (checked while validating)."""
        return self._tasks


class LegacyAnalyzeInput(WireModel):
    """``POST /text/analytics/{v3.x-preview…}/analyze``: documents and task lists."""

    # Azure requires both; analysisInput is optional here only so that its absence gets the
    # family's "no documents" error, so the docs still say required.
    model_config = ConfigDict(
        json_schema_extra={
            "required": ["analysisInput", "tasks"],
            "examples": [
                {
                    "analysisInput": _EXAMPLE_DOCUMENTS,
                    "tasks": {
                        "customEntityRecognitionTasks": [
                            {
                                "parameters": {
                                    "project-name": "myProject",
                                    "deployment-name": "production",
                                }
                            }
                        ]
                    },
                }
            ],
        }
    )

    display_name: StrictStr | None = None
    analysis_input: MultiLanguageAnalysisInput | None = Field(default=None, validate_default=True)
    tasks: LegacyTasks

    @field_validator("analysis_input")
    @classmethod
    def _has_documents(cls, value: MultiLanguageAnalysisInput | None) -> MultiLanguageAnalysisInput:
        return _require_documents(value, MissingInputRecords)

    def to_request(self) -> AnalysisRequest:
        """The wire-neutral request the analysis service takes."""
        assert self.analysis_input is not None  # _has_documents ran
        return AnalysisRequest(
            documents=_documents(self.analysis_input, None),
            tasks=self.tasks.to_tasks(),
            family=ApiFamily.LEGACY,
            display_name=self.display_name,
        )


# -- conversations (CLU, spec §1.2 of azure-clu-api.md) -----------------------------------------

#: The one task kind of ``:analyze-conversations`` (case-sensitive, as Azure's discriminator).
CONVERSATION_KIND = "Conversation"


class ConversationItem(WireModel):
    """The utterance (a ``TextConversationItem``); only ``text`` and ``language`` are read."""

    id: NonEmptyStr
    participant_id: NonEmptyStr
    text: StrictStr
    language: StrictStr | None = Field(
        default=None, description="Overrides the project's language (multilingual projects)."
    )
    modality: StrictStr | None = Field(default=None, description="Accepted and ignored.")
    role: StrictStr | None = Field(default=None, description="Accepted and ignored.")


class ConversationAnalysisInput(WireModel):
    """``analysisInput``: one conversation item."""

    conversation_item: ConversationItem


class ConversationParameters(WireModel):
    """``parameters``: the deployment to ask and how to count offsets."""

    project_name: NonEmptyStr
    deployment_name: NonEmptyStr
    string_index_type: StringIndexType = StringIndexType.TEXT_ELEMENTS
    verbose: bool | None = Field(
        default=None,
        description="Accepted; resolutions and extra information are always returned.",
    )
    is_logging_enabled: bool | None = Field(default=None, description="Accepted and ignored.")
    direct_target: StrictStr | None = Field(
        default=None, description="Orchestration only: ignored for a Conversation project."
    )

    @field_validator("string_index_type", mode="before")
    @classmethod
    def _index_type(cls, value: object) -> StringIndexType:
        # The error names the field's whole wire path, not just its name.
        try:
            return _parse_index_type(value)
        except InvalidParameterValue as error:
            raise InvalidParameterValue(
                error.message, target="parameters.stringIndexType"
            ) from None


class AnalyzeConversationsInput(WireModel):
    """``POST /language/:analyze-conversations``: one utterance for a Conversation project."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": CONVERSATION_KIND,
                    "analysisInput": {
                        "conversationItem": {
                            "id": "1",
                            "participantId": "1",
                            "text": "Send an email to Carol about tomorrow's demo",
                        }
                    },
                    "parameters": {
                        "projectName": "EmailApp",
                        "deploymentName": "production",
                        "stringIndexType": "UnicodeCodePoint",
                    },
                }
            ]
        }
    )

    kind: StrictStr = Field(description='Exactly "Conversation".')
    analysis_input: ConversationAnalysisInput
    parameters: ConversationParameters

    @field_validator("kind")
    @classmethod
    def _conversation_kind(cls, value: str) -> str:
        if value != CONVERSATION_KIND:
            raise InvalidParameterValue(
                f"kind {value!r} is not supported; :analyze-conversations takes "
                f"kind {CONVERSATION_KIND!r} (conversational language understanding)",
                target="kind",
            )
        return value

    def to_query(self) -> ConversationQuery:
        """The wire-neutral query the conversation service takes."""
        item = self.analysis_input.conversation_item
        return ConversationQuery(
            project_name=self.parameters.project_name,
            deployment_name=self.parameters.deployment_name,
            text=item.text,
            language=item.language,
            string_index_type=self.parameters.string_index_type,
        )
