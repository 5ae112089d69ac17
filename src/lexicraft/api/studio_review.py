"""Review and agreement routes (a Lexicraft extension): ``/language/lexicraft/projects/…``.

A reviewer accepts a document or sends it back (``…/documents/{location}:review``); a project's
review settings (``…/review-settings``) restrict training to accepted documents and put a share
of the documents through double annotation, where each annotator stores an own version
(``…/documents/{location}/annotations/mine``), the versions are compared (``…/agreement``) and
a reviewer resolves them into the document's labels (``…/documents/{location}:resolve``).
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
from lexicraft.domain.agreement import Measure, PairAgreement
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
    """``PUT …/documents/{location}/annotations/mine``: your own labels of the document."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"entities": [{"category": "City", "offset": 0, "length": 6}]}]
        }
    )

    entities: list[EntityLabel] | None = None
    classes: list[CategoryName] | None = None

    def spans(self) -> tuple[Span, ...] | None:
        """The entities as spans (None: not sent)."""
        if self.entities is None:
            return None
        return tuple(Span(e.offset, e.offset + e.length, e.category) for e in self.entities)


class ResolveInput(VersionInput):
    """``POST …/documents/{location}:resolve``: the annotator whose version becomes the
    document's labels (``from``), or the labels themselves; the document is then accepted."""

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


class PairAgreementRead(ResponseShape):
    """Two annotators' agreement over the documents both annotated."""

    annotators: list[str]
    measure: Measure
    document_count: int
    overall: float | None
    labels: list[LabelAgreementRead]
    conflicts: list[str]


class AgreementRead(ResponseShape):
    """Every pair of the project's annotators."""

    project_kind: ProjectKind
    measure: Literal["spanF1", "cohenKappa"]
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


def _render_pair(pair: PairAgreement) -> dict[str, Any]:
    return {
        "annotators": [pair.first, pair.second],
        "measure": pair.measure.value,
        "documentCount": len(pair.documents),
        "overall": pair.overall,
        "labels": [
            {
                "category": label.category,
                "score": label.score,
                "firstCount": label.first,
                "secondCount": label.second,
                "bothCount": label.both,
            }
            for label in pair.labels
        ],
        "conflicts": list(pair.conflicts),
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
    measure = (
        Measure.SPAN_F1 if found.kind is ProjectKind.ENTITY_RECOGNITION else Measure.COHEN_KAPPA
    )
    return {
        "projectKind": found.kind.value,
        "measure": measure.value,
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
            body.spans(),
            None if body.classes is None else tuple(body.classes),
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
    saved = review.save_my_version(
        context,
        project_name,
        location,
        body.spans(),
        None if body.classes is None else tuple(body.classes),
        actor=actor,
    )
    return _render_version(saved.kind, saved.version)
