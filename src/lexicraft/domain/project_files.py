"""The Azure project file's content (spec §5.4) once parsed: what an import brings in.

Offsets here still count UTF-16 code units, as the file does, and documents may still lack
their text (it lives in the storage container); ``services.project_files`` resolves both.
The wire shape itself is :mod:`lexicraft.wire.project_file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lexicraft.domain.projects import Dataset, Project, ProjectKind


@dataclass(frozen=True, slots=True)
class RawLabel:
    """A label as written in the file: UTF-16 offset and length."""

    category: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """A document entry of the file, before its text is read.

    ``text_length`` (UTF-16 code units) is known when the entry is rendered from a stored
    document: the file's one entity region then spans the whole text.
    """

    location: str
    language: str | None = None
    dataset: Dataset | None = None
    inline_text: str | None = None
    labels: tuple[RawLabel, ...] = ()
    classes: tuple[str, ...] = ()
    text_length: int | None = None

    def to_payload(self) -> dict[str, Any]:
        """A JSON object that :meth:`from_payload` reads back (a queued import's input)."""
        return {
            "location": self.location,
            "language": self.language,
            "dataset": None if self.dataset is None else self.dataset.value,
            "inlineText": self.inline_text,
            "labels": [[label.category, label.offset, label.length] for label in self.labels],
            "classes": list(self.classes),
            "textLength": self.text_length,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DocumentEntry:
        """The entry :meth:`to_payload` wrote (already checked when it was written)."""
        return cls(
            location=payload["location"],
            language=payload["language"],
            dataset=None if payload["dataset"] is None else Dataset(payload["dataset"]),
            inline_text=payload["inlineText"],
            labels=tuple(RawLabel(*label) for label in payload["labels"]),
            classes=tuple(payload["classes"]),
            text_length=payload.get("textLength"),
        )


@dataclass(frozen=True, slots=True)
class ProjectFile:
    """A parsed, schema-valid project file whose documents still need their texts."""

    project: Project
    labels: tuple[str, ...]
    entries: tuple[DocumentEntry, ...]

    def to_payload(self) -> dict[str, Any]:
        """A JSON object that :meth:`from_payload` reads back.

        An import job stores its input this way, so it still runs after a restart; the
        file's rules were checked when it was submitted, so reading it back checks nothing.
        """
        project = self.project
        return {
            "project": {
                "name": project.name,
                "kind": project.kind.value,
                "language": project.language,
                "storageContainer": project.storage_container,
                "multilingual": project.multilingual,
                "description": project.description,
                "settings": project.settings,
            },
            "labels": list(self.labels),
            "entries": [entry.to_payload() for entry in self.entries],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ProjectFile:
        """The project file :meth:`to_payload` wrote."""
        project = payload["project"]
        return cls(
            project=Project(
                name=project["name"],
                kind=ProjectKind(project["kind"]),
                language=project["language"],
                storage_container=project["storageContainer"],
                multilingual=project["multilingual"],
                description=project["description"],
                settings=project["settings"],
            ),
            labels=tuple(payload["labels"]),
            entries=tuple(DocumentEntry.from_payload(entry) for entry in payload["entries"]),
        )
