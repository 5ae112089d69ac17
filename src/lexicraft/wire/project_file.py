"""The Azure project file (spec §5.4) and ``CreateProjectOptions``: the wire shape is the parser.

The API's ``:import`` body, the ``azure`` file format and the CLI all read and write project
files through this module. Field types carry the plain rules (a string, a list…); the rules
that need their own Azure code raise that error from a validator, which pydantic lets
through unchanged. Offsets stay UTF-16 code units here: turning them into code points needs
each document's text, which ``services.project_files.resolve_documents`` reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from lexicraft.domain.project_files import DocumentEntry, ProjectFile, RawLabel
from lexicraft.domain.projects import TEXT_KINDS, Dataset, Project, ProjectKind, ProjectPatch
from lexicraft.domain.text import StringIndexType
from lexicraft.errors import InvalidParameterValue, InvalidProjectContent, InvalidRequestBody
from lexicraft.wire.base import WireModel, parse

PROJECT_FILE_VERSION = "2022-05-01"


def text_kind(value: object) -> ProjectKind:
    """A custom text project kind (the conversation kinds have their own API)."""
    return ProjectKind.parse(value, TEXT_KINDS)


#: A custom text project kind in any letter case, or its pre-GA spelling
#: (``ProjectKind.parse``).
Kind = Annotated[ProjectKind, BeforeValidator(text_kind)]
#: ``Train``/``Test`` in any letter case; absent or empty: decided by the training split.
DatasetName = Annotated[Dataset | None, BeforeValidator(Dataset.parse)]


def index_type(value: object) -> StringIndexType:
    # Project files count UTF-16 code units only; the field is required (spec §5.4).
    if value is None or StringIndexType.parse(value, StringIndexType.UTF16) is not (
        StringIndexType.UTF16
    ):
        raise InvalidParameterValue(
            f"stringIndexType {value!r} is not supported in project files; use 'Utf16CodeUnit'",
            target="stringIndexType",
        )
    return StringIndexType.UTF16


def check_project_name(given: str | None, project_name: str, target: str) -> None:
    """A body's ``projectName``, when given, must be the project of the URL."""
    if given is not None and given != project_name:
        raise InvalidParameterValue(
            f"{target} {given!r} does not match the project name in the URL {project_name!r}",
            target=target,
        )


# -- CreateProjectOptions ---------------------------------------------------------------------


class CreateProjectOptions(WireModel):
    """``CreateProjectOptions``: a project's metadata, as a project file carries it."""

    project_kind: Kind
    storage_input_container_name: StrictStr
    project_name: StrictStr | None = None
    multilingual: StrictBool | None = None
    description: StrictStr | None = None
    language: StrictStr
    settings: dict[str, Any] | None = None

    def to_project(self, project_name: str, where: str = "metadata") -> Project:
        """The project called ``project_name`` (the name in the body must agree)."""
        check_project_name(self.project_name, project_name, f"{where}.projectName")
        return project_patch(self).apply(project_name, None)


class ProjectOptionFields(Protocol):
    """The ``CreateProjectOptions`` fields, as a whole body or a merge-patch carries them."""

    @property
    def project_kind(self) -> ProjectKind | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def storage_input_container_name(self) -> str | None: ...
    @property
    def multilingual(self) -> bool | None: ...
    @property
    def description(self) -> str | None: ...
    @property
    def settings(self) -> dict[str, Any] | None: ...


def project_patch(
    options: ProjectOptionFields, cleared: frozenset[str] = frozenset()
) -> ProjectPatch:
    """The domain patch that ``CreateProjectOptions`` fields describe (wire → domain names)."""
    return ProjectPatch(
        kind=options.project_kind,
        language=options.language,
        storage_container=options.storage_input_container_name,
        multilingual=options.multilingual,
        description=options.description,
        settings=options.settings,
        cleared=cleared,
    )


def render_metadata(project: Project) -> dict[str, Any]:
    """The ``CreateProjectOptions`` block of a project."""
    return {
        "projectKind": project.kind.value,
        "storageInputContainerName": project.storage_container,
        "projectName": project.name,
        "multilingual": project.multilingual,
        "description": project.description or "",
        "language": project.language,
        "settings": project.settings,
    }


#: Fields of ``CreateProjectOptions`` that a merge-patch cannot remove: every project has them.
_REQUIRED = {
    "projectKind": "project_kind",
    "storageInputContainerName": "storage_input_container_name",
    "language": "language",
}


class ProjectPatchBody(WireModel):
    """``PATCH …/projects/{projectName}``: ``CreateProjectOptions`` as a JSON merge-patch.

    Every field is optional; ``null`` removes ``description``, ``multilingual`` or
    ``settings``. A new project needs ``projectKind``, ``storageInputContainerName`` and
    ``language``.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "projectKind": "CustomEntityRecognition",
                    "storageInputContainerName": "my-container",
                    "language": "en",
                    "description": "Names and places in support tickets.",
                }
            ]
        }
    )

    project_kind: Kind | None = None
    storage_input_container_name: StrictStr | None = None
    project_name: StrictStr | None = None
    multilingual: StrictBool | None = None
    description: StrictStr | None = None
    language: StrictStr | None = None
    settings: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _required_stay(self) -> ProjectPatchBody:
        for wire_name, name in _REQUIRED.items():
            if name in self.model_fields_set and getattr(self, name) is None:
                raise InvalidRequestBody(f"{wire_name} is required", target=wire_name)
        return self

    def to_patch(self, project_name: str) -> ProjectPatch:
        """The domain patch; the body's ``projectName``, if any, must be the URL's."""
        check_project_name(self.project_name, project_name, "projectName")
        given = self.model_fields_set
        return project_patch(
            self,
            cleared=frozenset(
                wire_name
                for wire_name in ProjectPatch.REMOVABLE
                if wire_name in given and getattr(self, wire_name) is None
            ),
        )


# -- assets -----------------------------------------------------------------------------------


class LabelName(WireModel):
    """An entry of the file's entity or class list."""

    category: StrictStr


class EntityLabel(WireModel):
    """A labeled entity: UTF-16 offset and length from the start of the document."""

    category: StrictStr
    offset: StrictInt
    length: StrictInt


class EntityRegion(WireModel):
    """A labeled region of a document; its labels' offsets count from the document start."""

    region_offset: StrictInt | None = None
    region_length: StrictInt | None = None
    labels: list[EntityLabel] | None = None


class _Document(WireModel):
    location: StrictStr
    language: StrictStr | None = None
    dataset: DatasetName = None
    text: StrictStr | None = Field(
        default=None,
        description="A Lexicraft extension: the document's text inline, instead of a file "
        "in the storage container.",
    )

    def _entry(self, labels: Iterable[RawLabel], classes: Iterable[str]) -> DocumentEntry:
        return DocumentEntry(
            location=self.location,
            language=self.language,
            dataset=self.dataset,
            inline_text=self.text,
            labels=tuple(labels),
            classes=tuple(classes),
        )


class EntityDocument(_Document):
    """A document of an entity recognition project."""

    entities: list[EntityRegion] | None = None

    def to_entry(self) -> DocumentEntry:
        labels = [
            RawLabel(label.category, label.offset, label.length)
            for region in self.entities or []
            for label in region.labels or []
        ]
        return self._entry(labels, ())


class SingleLabelDocument(_Document):
    """A document of a single-label classification project."""

    class_: LabelName | None = Field(default=None, alias="class")

    def to_entry(self) -> DocumentEntry:
        return self._entry((), () if self.class_ is None else (self.class_.category,))


class MultiLabelDocument(_Document):
    """A document of a multi-label classification project."""

    classes: list[LabelName] | None = None

    def to_entry(self) -> DocumentEntry:
        return self._entry((), (item.category for item in self.classes or []))


class EntityAssets(WireModel):
    """The labels and documents of an entity recognition project."""

    project_kind: Literal["CustomEntityRecognition"]
    entities: list[LabelName] | None = None
    documents: list[EntityDocument] | None = None


class SingleLabelAssets(WireModel):
    """The classes and documents of a single-label classification project."""

    project_kind: Literal["CustomSingleLabelClassification"]
    classes: list[LabelName] | None = None
    documents: list[SingleLabelDocument] | None = None


class MultiLabelAssets(WireModel):
    """The classes and documents of a multi-label classification project."""

    project_kind: Literal["CustomMultiLabelClassification"]
    classes: list[LabelName] | None = None
    documents: list[MultiLabelDocument] | None = None


Assets = Annotated[
    EntityAssets | SingleLabelAssets | MultiLabelAssets, Field(discriminator="project_kind")
]


# -- the file ---------------------------------------------------------------------------------


class ProjectFileBody(WireModel):
    """The exported project (spec §5.4): ``POST …/{projectName}/:import``'s body."""

    project_file_version: StrictStr = Field(
        validation_alias=AliasChoices("projectFileVersion", "project-file-version")
    )
    string_index_type: Annotated[StringIndexType, BeforeValidator(index_type)]
    metadata: CreateProjectOptions
    assets: Assets | None = None

    @model_validator(mode="before")
    @classmethod
    def _assets_kind(cls, data: Any) -> Any:
        """``assets.projectKind`` canonical and equal to the metadata's kind.

        The assets' kind picks the shape of their documents; absent, it is the metadata's
        (the field is optional), and any spelling ``ProjectKind.parse`` knows is accepted.
        """
        if not isinstance(data, dict) or not isinstance(data.get("assets"), dict):
            return data
        metadata = data.get("metadata")
        raw_kind = metadata.get("projectKind") if isinstance(metadata, dict) else None
        if raw_kind is None:
            return data  # "metadata.projectKind is required" comes first
        kind = text_kind(raw_kind)
        assets = data["assets"]
        given = assets.get("projectKind")
        if given is not None and text_kind(given) is not kind:
            raise InvalidParameterValue(
                f"assets.projectKind {given!r} does not match metadata.projectKind {kind.value!r}",
                target="assets.projectKind",
            )
        return {**data, "assets": {**assets, "projectKind": kind.value}}

    def to_project_file(self, project_name: str) -> ProjectFile:
        """The file's project, labels and entries, with the rules that need no text checked."""
        project = self.metadata.to_project(project_name)
        assets = self.assets
        label_key = "classes" if project.kind.is_classification else "entities"
        names: list[LabelName] = []
        documents: list[EntityDocument | SingleLabelDocument | MultiLabelDocument] = []
        if isinstance(assets, EntityAssets):
            names, documents = assets.entities or [], list(assets.documents or [])
        elif assets is not None:
            names, documents = assets.classes or [], list(assets.documents or [])
        labels = _label_list(names, f"assets.{label_key}")
        entries: list[DocumentEntry] = []
        seen: set[str] = set()
        for index, document in enumerate(documents):
            where = f"assets.documents[{index}]"
            entry = document.to_entry()
            _check_entry(entry, project.kind, labels, where)
            if entry.location in seen:
                raise InvalidProjectContent(
                    f"document location {entry.location!r} appears more than once",
                    target=f"{where}.location",
                )
            seen.add(entry.location)
            entries.append(entry)
        return ProjectFile(project=project, labels=labels, entries=tuple(entries))


def _label_list(names: Iterable[LabelName], where: str) -> tuple[str, ...]:
    labels: list[str] = []
    for name in names:
        if name.category in labels:
            raise InvalidProjectContent(f"{where} lists {name.category!r} twice", target=where)
        labels.append(name.category)
    return tuple(labels)


def _check_entry(
    entry: DocumentEntry, kind: ProjectKind, labels: tuple[str, ...], where: str
) -> None:
    """Each class at most once; every label one the file declares."""
    if len(set(entry.classes)) != len(entry.classes):
        twice = next(c for c in entry.classes if entry.classes.count(c) > 1)
        raise InvalidProjectContent(f"{where} has class {twice!r} twice", target=where)
    for category in [label.category for label in entry.labels] + list(entry.classes):
        if category not in labels:
            what = "class list" if kind.is_classification else "entity list"
            raise InvalidProjectContent(
                f"label {category!r} of {entry.location!r} is not in the project's {what} "
                f"{sorted(labels)}",
                target=where,
            )


def parse_project_file(body: object, project_name: str) -> ProjectFile:
    """A decoded project file (not from an HTTP body) → :class:`ProjectFile`, or its error."""
    return parse(ProjectFileBody, body).to_project_file(project_name)


def render_project_file(project_file: ProjectFile) -> dict[str, Any]:
    """The Azure project file (GA spellings, UTF-16 offsets, inline texts where known)."""
    project = project_file.project
    label_key = "classes" if project.kind.is_classification else "entities"
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": StringIndexType.UTF16.value,
        "metadata": render_metadata(project),
        "assets": {
            "projectKind": project.kind.value,
            label_key: [{"category": label} for label in project_file.labels],
            "documents": [_render_entry(project.kind, entry) for entry in project_file.entries],
        },
    }


def _render_entry(kind: ProjectKind, entry: DocumentEntry) -> dict[str, Any]:
    rendered: dict[str, Any] = {"location": entry.location}
    if entry.language is not None:
        rendered["language"] = entry.language
    if entry.dataset is not None:
        rendered["dataset"] = entry.dataset.value
    if kind is ProjectKind.ENTITY_RECOGNITION:
        region: dict[str, Any] = {}
        if entry.text_length is not None:
            region = {"regionOffset": 0, "regionLength": entry.text_length}
        region["labels"] = [
            {"category": label.category, "offset": label.offset, "length": label.length}
            for label in entry.labels
        ]
        rendered["entities"] = [region]
    elif kind is ProjectKind.SINGLE_LABEL_CLASSIFICATION:
        if entry.classes:
            rendered["class"] = {"category": entry.classes[0]}
    else:
        rendered["classes"] = [{"category": category} for category in entry.classes]
    if entry.inline_text is not None:
        rendered["text"] = entry.inline_text
    return rendered
