"""Projects and their labeled documents."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from lexicraft.domain.review import Review
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidParameterValue, InvalidRequestBody


class ProjectKind(StrEnum):
    """The project kinds Lexicraft trains: custom text, and conversations (CLU)."""

    ENTITY_RECOGNITION = "CustomEntityRecognition"
    SINGLE_LABEL_CLASSIFICATION = "CustomSingleLabelClassification"
    MULTI_LABEL_CLASSIFICATION = "CustomMultiLabelClassification"
    CONVERSATION = "Conversation"

    @property
    def is_classification(self) -> bool:
        """Whether documents carry classes rather than entity spans (custom text only: an
        utterance carries both its intent and its entities)."""
        return self in (
            ProjectKind.SINGLE_LABEL_CLASSIFICATION,
            ProjectKind.MULTI_LABEL_CLASSIFICATION,
        )

    @property
    def is_conversation(self) -> bool:
        """Whether the project holds utterances (CLU) rather than custom text documents."""
        return self is ProjectKind.CONVERSATION

    @property
    def has_storage_container(self) -> bool:
        """Whether the project's documents live in a storage container. Conversation
        utterances are inline in the project (spec CLU §2.10): such a project has none."""
        return not self.is_conversation

    @property
    def evaluation_key(self) -> str:
        """The key of this kind's metrics in an evaluation summary (spec §5.7)."""
        return f"{self.value[0].lower()}{self.value[1:]}Evaluation"

    @property
    def result_key(self) -> str:
        """The key of this kind's expected/predicted labels in a per-document result."""
        return f"{self.value[0].lower()}{self.value[1:]}Result"

    @classmethod
    def parse(cls, value: object, allowed: Collection[ProjectKind] | None = None) -> ProjectKind:
        """The kind named by ``value``, accepting the pre-GA spellings (spec §5.1); one of
        ``allowed`` when given (a route family's kinds)."""
        choices = list(cls) if allowed is None else list(allowed)
        if isinstance(value, str):
            kind = _KIND_SPELLINGS.get(value.lower())
            if kind is not None and kind in choices:
                return kind
        raise InvalidParameterValue(
            f"projectKind {value!r} is not supported; use one of {[k.value for k in choices]}",
            target="projectKind",
        )


_KIND_SPELLINGS = {
    "customentityrecognition": ProjectKind.ENTITY_RECOGNITION,
    "customnamedentityrecognition": ProjectKind.ENTITY_RECOGNITION,
    "customsinglelabelclassification": ProjectKind.SINGLE_LABEL_CLASSIFICATION,
    "custommultilabelclassification": ProjectKind.MULTI_LABEL_CLASSIFICATION,
    "conversation": ProjectKind.CONVERSATION,
}

#: The kinds of the custom text authoring API (``…/analyze-text/projects``).
TEXT_KINDS = frozenset(
    {
        ProjectKind.ENTITY_RECOGNITION,
        ProjectKind.SINGLE_LABEL_CLASSIFICATION,
        ProjectKind.MULTI_LABEL_CLASSIFICATION,
    }
)
#: The kinds of the conversation authoring API (``…/analyze-conversations/projects``);
#: ``Orchestration`` is not one: ``ProjectKind.parse`` answers that it is not supported.
CONVERSATION_KINDS = frozenset({ProjectKind.CONVERSATION})

# Spec §4: letters, digits, "_", "-", "."; "global" collides with the authoring routes (§5.9).
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_RESERVED_PROJECT_NAMES = frozenset({"global"})


def _only_dots(value: str) -> bool:
    # "." and ".." name the folder itself or its parent wherever a name becomes a path
    # segment (model folders, storage containers, URLs), and Windows drops trailing dots.
    return value.strip(".") == ""


def check_name(value: str, what: str) -> str:
    """``value`` if it is a valid project / model / deployment name, else an error."""
    if not _NAME_PATTERN.fullmatch(value) or _only_dots(value):
        raise InvalidParameterValue(
            f"{what} {value!r} is not valid: use 1-100 letters, digits, '_', '-' or '.', "
            "not only dots",
            target=what,
        )
    if what == "projectName" and value.lower() in _RESERVED_PROJECT_NAMES:
        raise InvalidParameterValue(f"projectName {value!r} is reserved", target=what)
    return value


def container_problem(container: str) -> str | None:
    """Why ``container`` cannot name a storage container; None when it can.

    The one rule for container names (projects' ``storageInputContainerName``, uploads, the
    folder store): a name's rule, so a project's default container (its own name, as the
    Studio and the CLI make it) is always valid. The Blob store also applies Azure's stricter
    Blob container rule (3-63 lowercase letters, digits and hyphens).
    """
    if not _NAME_PATTERN.fullmatch(container) or _only_dots(container):
        return "is not valid: use 1-100 letters, digits, '_', '-' or '.', not only dots"
    return None


class Dataset(StrEnum):
    """Which split a document is assigned to (absent: decided by the training split)."""

    TRAIN = "Train"
    TEST = "Test"

    @classmethod
    def parse(cls, value: object) -> Dataset | None:
        """The dataset named by ``value`` (case-insensitive), None when absent."""
        if value is None or value == "":
            return None
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.lower():
                    return member
        raise InvalidParameterValue(
            f"dataset {value!r} is not valid; use 'Train' or 'Test'", target="dataset"
        )


@dataclass(frozen=True, slots=True)
class Project:
    """A project's metadata (the Azure ``CreateProjectOptions`` plus timestamps)."""

    name: str
    kind: ProjectKind
    language: str
    storage_container: str
    multilingual: bool = False
    description: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    modified_at: datetime | None = None
    last_trained_at: datetime | None = None
    last_deployed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProjectPatch:
    """A JSON merge-patch of a project's metadata (Azure's ``CreateProjectOptions``).

    None leaves a field as it is; ``cleared`` names the optional fields the patch removes
    (``null`` on the wire). A new project needs its kind, language and container.
    """

    kind: ProjectKind | None = None
    language: str | None = None
    storage_container: str | None = None
    multilingual: bool | None = None
    description: str | None = None
    settings: dict[str, Any] | None = None
    cleared: frozenset[str] = frozenset()

    #: The fields a patch may remove, by their wire names.
    REMOVABLE = frozenset({"description", "multilingual", "settings"})

    @classmethod
    def of(cls, project: Project) -> ProjectPatch:
        """The patch that sets every field of ``project``."""
        return cls(
            kind=project.kind,
            language=project.language,
            storage_container=project.storage_container,
            multilingual=project.multilingual,
            description=project.description,
            settings=project.settings,
        )

    def apply(self, name: str, existing: Project | None) -> Project:
        """``existing`` (None: a new project called ``name``) with this patch applied."""
        check_name(name, "projectName")
        base = existing
        kind = self.kind if self.kind is not None or base is None else base.kind
        language = self.language if self.language is not None or base is None else base.language
        container = self._container(kind, base)
        if kind is None:
            raise InvalidRequestBody("projectKind is required", target="projectKind")
        if language is None:
            raise InvalidRequestBody("language is required", target="language")
        if base is None:
            base = Project(name=name, kind=kind, language=language, storage_container=container)
        return replace(
            base,
            kind=kind,
            language=language,
            storage_container=container,
            multilingual=self._pick("multilingual", self.multilingual, base.multilingual, False),
            description=self._pick("description", self.description, base.description, None),
            settings=self._pick("settings", self.settings, base.settings, {}),
        )

    def _container(self, kind: ProjectKind | None, base: Project | None) -> str:
        """The project's storage container: required for custom text; a conversation
        project has none (its utterances are inline), so any container sent is ignored, as
        Azure ignores it (newer SDK models still carry the field)."""
        if kind is not None and not kind.has_storage_container:
            return ""
        container = self.storage_container
        if container is None and base is not None and base.kind.has_storage_container:
            container = base.storage_container
        if container is None:
            raise InvalidRequestBody(
                "storageInputContainerName is required", target="storageInputContainerName"
            )
        # Checked when the patch sets it: a stored project keeps the container it has.
        given = self.storage_container
        problem = None if given is None else container_problem(given)
        if problem is not None:
            raise InvalidParameterValue(
                f"storageInputContainerName {container!r} {problem}",
                target="storageInputContainerName",
            )
        return container

    def _pick(self, wire_name: str, given: Any, current: Any, removed: Any) -> Any:
        if wire_name in self.cleared:
            return removed
        return current if given is None else given


@dataclass(frozen=True, slots=True)
class Document:
    """A labeled document. ``spans`` for NER, ``classes`` for classification; who last
    changed them (``labeled_by``, None: nobody since import) and their ``review``, if any."""

    location: str
    text: str
    language: str | None = None
    dataset: Dataset | None = None
    spans: tuple[Span, ...] = ()
    classes: tuple[str, ...] = ()
    labeled_by: str | None = None
    review: Review | None = None


def renamed_classes(classes: Sequence[str], category: str, name: str) -> tuple[str, ...]:
    """``classes`` with ``category`` called ``name``, in order; a class that then duplicates
    another (a merge of two classes) is kept once."""
    return tuple(dict.fromkeys(name if found == category else found for found in classes))


@dataclass(frozen=True, slots=True)
class ProjectAssets:
    """Labels and documents of a project, as imported."""

    labels: tuple[str, ...]
    documents: tuple[Document, ...]


#: File systems allow 255 bytes per name; a write goes through a temporary name a little
#: longer (``….partial``), so a location's parts stay under this.
MAX_LOCATION_PART_BYTES = 240


def location_problem(location: str) -> str | None:
    """Why ``location`` cannot name a file inside a storage container; None when it can.

    The one rule for document locations (imports, file readers, uploads, the blob stores):
    a relative path that names a file below its container (not the container itself, as
    ``.`` or ``a/..`` would) and cannot climb out of it on any operating system.
    """
    parts = PurePosixPath(location.replace("\\", "/")).parts
    if (
        not parts  # "", ".", "./." name the container itself
        or location.startswith(("/", "\\"))
        or ".." in parts
        or (len(location) > 1 and location[1] == ":")  # a Windows drive
        or "\x00" in location
    ):
        return (
            "must be a relative path to a file inside the storage container, without '..', "
            "a leading '/', a drive letter or a NUL character"
        )
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_LOCATION_PART_BYTES for part in parts):
        return f"has a folder or file name over {MAX_LOCATION_PART_BYTES} bytes (UTF-8)"
    return None
