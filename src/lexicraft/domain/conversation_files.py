"""A conversation (CLU) project file once parsed (spec CLU §2.4): what an import brings in.

Label offsets here still count UTF-16 code units, as the file does; the content rules that
need the texts or the settings (labels inside the text, limits) are checked by
``services.conversation_files``, which turns entries into domain documents. The wire shape
is :mod:`lexicraft.wire.conversation_file`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lexicraft.domain.conversations import ConversationAssets
from lexicraft.domain.project_files import RawLabel
from lexicraft.domain.projects import Dataset, Project


@dataclass(frozen=True, slots=True)
class UtteranceEntry:
    """An utterance as the file writes it: its one intent and UTF-16 entity labels."""

    text: str
    intent: str
    language: str | None = None
    dataset: Dataset | None = None
    labels: tuple[RawLabel, ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationFile:
    """A parsed, schema-valid conversation project file (intents include ``None``)."""

    project: Project
    assets: ConversationAssets
    utterances: tuple[UtteranceEntry, ...]
