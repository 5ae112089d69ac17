"""Review and agreement routes (a Lexicraft extension): ``/language/lexicraft/projects/…``.

A reviewer accepts a document or sends it back (``…/documents/{location}:review``); a project's
review settings (``…/review-settings``) restrict training to accepted documents and put a share
of the documents through double annotation, where each annotator stores an own version
(``…/documents/{location}/annotations/mine``), the versions are compared (``…/agreement``) and
a reviewer resolves them into the document's labels (``…/documents/{location}:resolve``).
Conversation (CLU) utterances use the same routes (they are the ``…/documents`` of their
project): a version is an ``intent`` and ``entities``, and agreement compares both parts.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from lexicraft.api.authoring.responses import ok
from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import Labeler, Reviewer, needs
from lexicraft.api.requests import WireModel
from lexicraft.api.studio_api import (
    PREFIX,
    CategoryName,
    ClassRead,
    EntityLabel,
    EntityRead,
    LabeledDocumentRead,
    ResponseShape,
    render_annotations,
    render_labeled,
)
from lexicraft.domain.agreement import Measure, PairAgreement, PairReport, Part
from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.review import AnnotatorVersion, ReviewDecision, ReviewSettings
from lexicraft.domain.spans import Span
from lexicraft.domain.users import Permission
from lexicraft.services import review
from lexicraft.timeutil import format_datetime

router = APIRouter(prefix=PREFIX, tags=["studio"], responses=ERRORS)


# -- wire → values -----------------------------------------------------------------------------


class ReviewSettingsPatch(WireModel):
    """``PATCH …/review-settings``: only the fields sent change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"trainReviewedOnly": True, "doubleAnnotationFraction": 0.1}]
        }
    )

    train_reviewed_only: StrictBool | None = None
    double_annotation_fraction: StrictFloat | StrictInt | None = Field(
        default=None, description="The share (0 to 1) of documents annotated by several people."
    )


class ReviewInput(WireModel):
    """``POST …/documents/{location}:review``: accept the labels, or send them back."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"decision": "sendBack", "comment": "Vienna is a City"}]}
    )

    decision: StrictStr = Field(description="accept or sendBack.")
    comment: StrictStr | None = None


class VersionInput(WireModel):
    """``PUT …/documents/{location}/annotations/mine``: your own labels of the document:
    ``entities`` (entity recognition), ``classes`` (classification), or an utterance's
    ``intent`` (required) and ``entities`` (absent: none)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"entities": [{"category": "City", "offset": 0, "length": 6}]}]
        }
    )

    entities: list[EntityLabel] | None = None
    classes: list[CategoryName] | None = None
    intent: StrictStr | None = Field(default=None, description="An utterance's intent (CLU).")

    def labels(self) -> review.Labels:
        """The labels sent (None: a field not sent)."""
        spans = None
        if self.entities is not None:
            spans = tuple(Span(e.offset, e.offset + e.length, e.category) for e in self.entities)
        return review.Labels(
            spans=spans,
            classes=None if self.classes is None else tuple(self.classes),
            intent=self.intent,
        )


class ResolveInput(VersionInput):
    """``POST …/documents/{location}:resolve``: the annotator whose version becomes the
    document's labels (``from``), or the labels themselves (an utterance's ``intent`` or
    ``entities`` not sent stay as they are); the document is then accepted."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"from": "ana"}]})

    from_: StrictStr | None = Field(default=None, alias="from")
    comment: StrictStr | None = None


# -- response shapes ---------------------------------------------------------------------------


class ReviewSettingsRead(ResponseShape):
    """A project's review settings."""

    train_reviewed_only: bool
    double_annotation_fraction: float


class VersionRead(ResponseShape):
    """One annotator's own version of a document."""

    annotator: str
    last_modified_date_time: str
    entities: list[EntityRead] | None = None
    classes: list[ClassRead] | None = None


class VersionsRead(ResponseShape):
    """A document (its labels: the resolved version) and every annotator's version of it."""

    document: LabeledDocumentRead
    value: list[VersionRead]


class LabelAgreementRead(ResponseShape):
    """Agreement on one entity type or class: each annotator's count (spans, or documents
    given the class) and how many they share."""

    category: str
    score: float | None
    first_count: int
    second_count: int
    both_count: int


class PartAgreementRead(ResponseShape):
    """Two annotators' agreement on one part of their labels."""

    part: Part = Field(description="entities, classes, or intents.")
    measure: Measure
    overall: float | None
    labels: list[LabelAgreementRead]
    conflicts: list[str] = Field(description="The documents where this part differs.")


class PairAgreementRead(ResponseShape):
    """Two annotators' agreement over the documents both annotated: ``measure``, ``overall``
    and ``labels`` are the first part's (the only one for custom text; an utterance's intents),
    ``conflicts`` the documents where any part differs, and ``parts`` every part."""

    annotators: list[str]
    measure: Measure
    document_count: int
    overall: float | None
    labels: list[LabelAgreementRead]
    conflicts: list[str]
    parts: list[PartAgreementRead]


class MeasuredPartRead(ResponseShape):
    """A part of the labels agreement compares, and how."""

    part: Part
    measure: Measure


class AgreementRead(ResponseShape):
    """Every pair of the project's annotators. ``parts``: what is compared, in order:
    ``entities`` (span F1) for entity recognition, ``classes`` (Cohen's kappa) for
    classification, ``intents`` (Cohen's kappa) then ``entities`` (span F1) for a conversation
    project; ``measure`` is the first part's."""

    project_kind: ProjectKind
    measure: Literal["spanF1", "cohenKappa"]
    parts: list[MeasuredPartRead]
    annotators: list[str]
    document_count: int = Field(description="Documents with versions by two or more people.")
    pairs: list[PairAgreementRead]


# -- values → wire -----------------------------------------------------------------------------


def _render_settings(settings: ReviewSettings) -> dict[str, Any]:
    return {
        "trainReviewedOnly": settings.train_reviewed_only,
        "doubleAnnotationFraction": settings.double_annotation_fraction,
    }


def _render_version(kind: ProjectKind, version: AnnotatorVersion) -> dict[str, Any]:
    body: dict[str, Any] = {
        "annotator": version.annotator,
        "lastModifiedDateTime": format_datetime(version.updated_at),
    }
    return {**body, **render_annotations(kind, version.classes, version.spans)}


def _render_part(part: PairAgreement) -> dict[str, Any]:
    return {
        "part": part.part.value,
        "measure": part.measure.value,
        "overall": part.overall,
        "labels": [
            {
                "category": label.category,
                "score": label.score,
                "firstCount": label.first,
                "secondCount": label.second,
                "bothCount": label.both,
            }
            for label in part.labels
        ],
        "conflicts": list(part.conflicts),
    }


def _render_pair(pair: PairReport) -> dict[str, Any]:
    parts = [_render_part(part) for part in pair.parts]
    head = parts[0]
    return {
        "annotators": [pair.first, pair.second],
        "measure": head["measure"],
        "documentCount": len(pair.documents),
        "overall": head["overall"],
        "labels": head["labels"],
        "conflicts": list(pair.conflicts),
        "parts": parts,
    }


# -- routes ------------------------------------------------------------------------------------


@router.get(
    "/{project_name}/review-settings",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(ReviewSettingsRead),
)
def get_review_settings(project_name: str, context: Context) -> dict[str, Any]:
    return _render_settings(review.get_settings(context, project_name))


@router.patch(
    "/{project_name}/review-settings",
    dependencies=[needs(Permission.AUTHOR)],
    responses=ok(ReviewSettingsRead),
)
def change_review_settings(
    project_name: str, body: ReviewSettingsPatch, context: Context
) -> dict[str, Any]:
    fraction = body.double_annotation_fraction
    return _render_settings(
        review.change_settings(
            context,
            project_name,
            train_reviewed_only=body.train_reviewed_only,
            double_annotation_fraction=None if fraction is None else float(fraction),
        )
    )


@router.get(
    "/{project_name}/agreement", dependencies=[needs(Permission.VIEW)], responses=ok(AgreementRead)
)
def get_agreement(project_name: str, context: Context) -> dict[str, Any]:
    found = review.project_agreement(context, project_name)
    return {
        "projectKind": found.kind.value,
        "measure": found.parts[0][1].value,
        "parts": [{"part": part.value, "measure": measure.value} for part, measure in found.parts],
        "annotators": found.annotators,
        "documentCount": found.documents,
        "pairs": [_render_pair(pair) for pair in found.pairs],
    }


@router.post("/{project_name}/documents/{location:path}:review", responses=ok(LabeledDocumentRead))
def review_document(
    project_name: str, location: str, body: ReviewInput, context: Context, actor: Reviewer
) -> dict[str, Any]:
    decision = ReviewDecision.parse(body.decision)
    return render_labeled(
        review.review_document(context, project_name, location, decision, body.comment, actor=actor)
    )


@router.post("/{project_name}/documents/{location:path}:resolve", responses=ok(LabeledDocumentRead))
def resolve_document(
    project_name: str, location: str, body: ResolveInput, context: Context, actor: Reviewer
) -> dict[str, Any]:
    return render_labeled(
        review.resolve(
            context,
            project_name,
            location,
            body.from_,
            body.labels(),
            body.comment,
            actor=actor,
        )
    )


# Registered before the labeling router's document GET, whose {location:path} would take
# ".../annotations" too.
@router.get(
    "/{project_name}/documents/{location:path}/annotations",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(VersionsRead),
)
def list_versions(project_name: str, location: str, context: Context) -> dict[str, Any]:
    found = review.document_versions(context, project_name, location)
    kind = found.labeled.kind
    return {
        "document": render_labeled(found.labeled),
        "value": [_render_version(kind, version) for version in found.versions],
    }


@router.put("/{project_name}/documents/{location:path}/annotations/mine", responses=ok(VersionRead))
def save_my_version(
    project_name: str, location: str, body: VersionInput, context: Context, actor: Labeler
) -> dict[str, Any]:
    saved = review.save_my_version(context, project_name, location, body.labels(), actor=actor)
    return _render_version(saved.kind, saved.version)
