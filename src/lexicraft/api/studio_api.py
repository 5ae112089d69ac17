"""Labeling routes the Studio needs (a Lexicraft extension): ``/language/lexicraft/projects/…``.

Azure's authoring API only imports whole projects; these routes change one document or the
label list at a time. Offsets are code points (``"stringIndexType": "UnicodeCodePoint"``),
lengths too. They live under ``/language/`` so the subscription key protects them. Each route
validates its typed body, calls one service, renders; routes are plain ``def``, so the
services' file and database work runs in FastAPI's threadpool, off the event loop.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)

from lexicraft.api.authoring.render import page
from lexicraft.api.authoring.responses import ok
from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import Author, Labeler, needs
from lexicraft.api.requests import WireModel
from lexicraft.domain.history import DocumentAction, DocumentEvent, LabelState
from lexicraft.domain.projects import Dataset, Document, ProjectKind
from lexicraft.domain.review import DocumentState, state_of
from lexicraft.domain.spans import Span
from lexicraft.domain.text import StringIndexType
from lexicraft.domain.users import Permission
from lexicraft.errors import InvalidRequestBody
from lexicraft.services import documents, history
from lexicraft.services.documents import (
    DatasetFilter,
    DocumentChange,
    DocumentCounts,
    DocumentQuery,
    LabeledDocument,
    LabelList,
    LabelStatus,
    NewDocument,
)
from lexicraft.timeutil import format_datetime

PREFIX = "/language/lexicraft/projects"
router = APIRouter(prefix=PREFIX, tags=["studio"], responses=ERRORS)


# -- wire → values -----------------------------------------------------------------------------


def _category_name(value: object) -> object:
    # The Studio sends {"category": …} like Azure's assets; scripts may send the bare name.
    if isinstance(value, dict) and "category" in value:
        return value["category"]
    return value


#: A label: ``{"category": "City"}`` or ``"City"``.
CategoryName = Annotated[
    StrictStr,
    BeforeValidator(_category_name),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"category": {"type": "string"}},
                    "required": ["category"],
                },
            ]
        }
    ),
]


def _parse_dataset(value: object) -> Dataset | None:
    return Dataset.parse(value)


#: ``Train``, ``Test`` (any case), or null / ``""`` for none.
DatasetName = Annotated[
    Dataset | None,
    BeforeValidator(_parse_dataset),
]


class EntityLabel(WireModel):
    """A labeled span; offset and length count code points."""

    category: StrictStr
    offset: StrictInt
    length: StrictInt


class DocumentPatch(WireModel):
    """``PATCH …/documents/{location}``: only the fields sent change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "entities": [{"category": "Person", "offset": 0, "length": 11}],
                    "dataset": "Train",
                }
            ]
        }
    )

    entities: list[EntityLabel] | None = None
    classes: list[CategoryName] | None = None
    dataset: DatasetName = None
    language: StrictStr | None = None
    string_index_type: StringIndexType = Field(
        default=StringIndexType.CODE_POINT,
        description="Offsets count code points here; only UnicodeCodePoint is accepted.",
    )

    @field_validator("string_index_type", mode="before")
    @classmethod
    def _code_points_only(cls, value: object) -> StringIndexType:
        declared = StringIndexType.parse(value, StringIndexType.CODE_POINT)
        if declared is not StringIndexType.CODE_POINT:
            raise InvalidRequestBody(
                "these routes count offsets in code points; stringIndexType must be "
                "'UnicodeCodePoint' or absent",
                target="stringIndexType",
            )
        return declared

    def to_change(self) -> DocumentChange:
        """The service's change: None leaves a field as it is."""
        return DocumentChange(
            spans=None
            if self.entities is None
            else tuple(Span(e.offset, e.offset + e.length, e.category) for e in self.entities),
            classes=None if self.classes is None else tuple(self.classes),
            # An explicit null clears the dataset; an absent one keeps it.
            change_dataset="dataset" in self.model_fields_set,
            dataset=self.dataset,
            language=self.language,
        )


class NewDocumentInput(WireModel):
    """``POST …/documents``: a document file to write and label later."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "Marcus Bell met François Dubois in Vienna.",
                    "language": "en",
                    "dataset": "Train",
                    "location": "doc-1.txt",
                }
            ]
        }
    )

    text: StrictStr
    language: StrictStr | None = None
    dataset: DatasetName = None
    location: StrictStr | None = Field(
        default=None, description="The file's path in the container; generated when absent."
    )

    def to_new(self) -> NewDocument:
        """The service's new document."""
        return NewDocument(
            text=self.text, language=self.language, dataset=self.dataset, location=self.location
        )


class LabelsInput(WireModel):
    """``PUT …/labels``: the project's whole label list, in order."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"labels": ["Person", "City"]}]})

    labels: list[CategoryName]


class RenameInput(WireModel):
    """``POST …/labels/{name}:rename``: the label's new name; another label's name merges the
    two."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"newName": "Organization"}]})

    new_name: StrictStr


class DatasetAssignmentInput(WireModel):
    """``POST …/documents:assign-dataset``: documents to move into one dataset (null: none)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"locations": ["a.txt", "b.txt"], "dataset": "Test"}]}
    )

    locations: list[StrictStr]
    dataset: DatasetName = Field(description="Train, Test, or null for no dataset.")


def _parse_query(request: Request) -> DocumentQuery:
    status = request.query_params.get("status")
    dataset = request.query_params.get("dataset")
    state = request.query_params.get("state")
    annotator = request.query_params.get("annotator")
    return DocumentQuery(
        status=LabelStatus.parse(status) if status else None,
        dataset=DatasetFilter.parse(dataset) if dataset else None,
        state=DocumentState.parse(state) if state else None,
        annotator=annotator or None,
    )


# -- response shapes (for /openapi.json; the renderers below build the bodies) ------------------


class ResponseShape(WireModel):
    """A response shape of the Studio API (documented in /openapi.json)."""

    # Our own output: any field not listed here is a bug in a renderer or in the docs.
    model_config = ConfigDict(extra="forbid")


class ClassRead(ResponseShape):
    """A class of a document."""

    category: str


class EntityRead(ResponseShape):
    """A labeled span; offset and length count code points."""

    category: str
    offset: int
    length: int


class DocumentRead(ResponseShape):
    """A document and its labels: ``entities`` in NER projects, ``classes`` in
    classification projects, ``intent`` and ``entities`` for a conversation's utterance."""

    location: str
    language: str | None
    dataset: Dataset | None
    labeled: bool
    text: str
    intent: str | None = None
    entities: list[EntityRead] | None = None
    classes: list[ClassRead] | None = None
    state: DocumentState = Field(
        description="unlabeled, labeled, accepted or sentBack (a label change clears a review)."
    )
    labeled_by: str | None = Field(description="Who last changed its labels (None: imported).")
    reviewed_by: str | None = None
    reviewed_date_time: str | None = None
    review_comment: str | None = None
    double_annotation: bool | None = Field(
        default=None,
        description="In the project's double-annotation sample.",
    )
    annotators: list[str] | None = Field(
        default=None, description="Who has an own version of it (double annotation)."
    )


class LabeledDocumentRead(DocumentRead):
    """One document, with the unit of its offsets."""

    string_index_type: Literal["UnicodeCodePoint"]


class DocumentCountsRead(ResponseShape):
    """Whole-project counts, whatever the query."""

    total: int
    labeled: int
    unlabeled: int
    train: int
    test: int
    unassigned: int


class DocumentsPage(ResponseShape):
    """A page of a project's documents, with its labels and counts."""

    project_kind: ProjectKind
    string_index_type: Literal["UnicodeCodePoint"]
    labels: list[str]
    counts: DocumentCountsRead
    value: list[DocumentRead]
    next_link: str | None = None


class LabelStateRead(ResponseShape):
    """A document's labels at one moment (an utterance's text too)."""

    dataset: Dataset | None
    language: str | None
    text: str | None = None
    intent: str | None = None
    entities: list[EntityRead] | None = None
    classes: list[ClassRead] | None = None


class DocumentEventRead(ResponseShape):
    """One change of a document: who (a user's name, else a key's), when, what."""

    id: int
    created_date_time: str
    action: DocumentAction
    actor: str
    before: LabelStateRead | None
    after: LabelStateRead | None
    comment: str | None = None


class DocumentHistoryPage(ResponseShape):
    """A document's changes, oldest first."""

    location: str
    string_index_type: Literal["UnicodeCodePoint"]
    value: list[DocumentEventRead]
    next_link: str | None = None


class LabelUsageRead(ResponseShape):
    """A label and how many documents use it."""

    category: str
    document_count: int


class LabelsRead(ResponseShape):
    """The project's labels in order."""

    project_kind: ProjectKind
    labels: list[LabelUsageRead]


class LabelRenameRead(LabelsRead):
    """The labels after a rename, whether it merged two labels, and how many documents
    changed."""

    merged: bool
    changed_documents: int


class DatasetAssignmentRead(ResponseShape):
    """The documents a bulk assignment moved (those already in the dataset are left out) and
    the project's counts after it."""

    dataset: Dataset | None
    changed: list[str]
    counts: DocumentCountsRead


# -- values → wire -----------------------------------------------------------------------------


def _render_document(
    kind: ProjectKind,
    document: Document,
    double_annotation: bool | None = None,
    annotators: tuple[str, ...] = (),
) -> dict[str, Any]:
    review = document.review
    body: dict[str, Any] = {
        "location": document.location,
        "language": document.language,
        "dataset": document.dataset.value if document.dataset else None,
        "labeled": documents.is_labeled(document),
        "text": document.text,
        "state": state_of(document).value,
        "labeledBy": document.labeled_by,
        "reviewedBy": None if review is None else review.by,
        "reviewedDateTime": None if review is None else format_datetime(review.at),
        "reviewComment": None if review is None else review.comment,
    }
    if double_annotation is not None:
        body["doubleAnnotation"] = double_annotation
        body["annotators"] = list(annotators)
    return {**body, **render_annotations(kind, document.classes, document.spans)}


def render_annotations(
    kind: ProjectKind, classes: tuple[str, ...], spans: tuple[Span, ...]
) -> dict[str, Any]:
    """A document's labels as the labeling routes write them: an utterance's intent, the
    classes of a classification document, else entity spans (code points)."""
    body: dict[str, Any] = {}
    if kind.is_conversation:
        body["intent"] = classes[0] if classes else None
    if kind.is_classification:
        body["classes"] = [{"category": category} for category in classes]
    else:
        body["entities"] = [
            {"category": span.category, "offset": span.start, "length": span.end - span.start}
            for span in spans
        ]
    return body


def _render_labels_of(kind: ProjectKind, state: LabelState) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dataset": state.dataset.value if state.dataset else None,
        "language": state.language,
    }
    if state.text is not None:
        body["text"] = state.text
    return {**body, **render_annotations(kind, state.classes, state.spans)}


def _render_event(kind: ProjectKind, event: DocumentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "createdDateTime": format_datetime(event.at),
        "action": event.action.value,
        "actor": event.actor,
        "before": None if event.before is None else _render_labels_of(kind, event.before),
        "after": None if event.after is None else _render_labels_of(kind, event.after),
        "comment": event.comment,
    }


def render_labeled(labeled: LabeledDocument) -> dict[str, Any]:
    """One document of a project, with the unit of its offsets."""
    body = _render_document(
        labeled.kind, labeled.document, labeled.double_annotation, labeled.annotators
    )
    body["stringIndexType"] = StringIndexType.CODE_POINT.value
    return body


def _render_counts(counts: DocumentCounts) -> dict[str, int]:
    return {
        "total": counts.total,
        "labeled": counts.labeled,
        "unlabeled": counts.unlabeled,
        "train": counts.train,
        "test": counts.test,
        "unassigned": counts.unassigned,
    }


def _render_labels(found: LabelList) -> dict[str, Any]:
    return {
        "projectKind": found.kind.value,
        "labels": [
            {"category": usage.category, "documentCount": usage.documents} for usage in found.labels
        ],
    }


# -- routes ------------------------------------------------------------------------------------


@router.get(
    "/{project_name}/documents", dependencies=[needs(Permission.VIEW)], responses=ok(DocumentsPage)
)
def list_documents(project_name: str, request: Request, context: Context) -> dict[str, Any]:
    found = documents.list_documents(context, project_name, _parse_query(request))
    kind = found.project.kind
    body = page(
        request,
        found.documents,
        lambda document: _render_document(
            kind,
            document,
            found.double_annotation(document),
            found.annotators.get(document.location, ()),
        ),
        context.settings.default_page_size,
    )
    return {
        "projectKind": kind.value,
        "stringIndexType": StringIndexType.CODE_POINT.value,
        "labels": list(found.labels),
        "counts": _render_counts(found.counts),
        **body,
    }


# Registered before …/documents/{location:path}, which would not match it anyway (no slash).
@router.post("/{project_name}/documents:assign-dataset", responses=ok(DatasetAssignmentRead))
def assign_dataset(
    project_name: str, body: DatasetAssignmentInput, context: Context, actor: Labeler
) -> dict[str, Any]:
    done = documents.assign_dataset(
        context, project_name, body.locations, body.dataset, actor=actor
    )
    return {
        "dataset": done.dataset.value if done.dataset else None,
        "changed": done.changed,
        "counts": _render_counts(done.counts),
    }


@router.post(
    "/{project_name}/documents",
    status_code=201,
    responses={201: {"model": LabeledDocumentRead, "description": "Created."}},
)
def add_document(
    project_name: str, body: NewDocumentInput, context: Context, actor: Labeler
) -> dict[str, Any]:
    return render_labeled(documents.add_document(context, project_name, body.to_new(), actor=actor))


# Before the document's own GET, whose {location:path} would take ".../history" too (so a
# document whose location ends in "/history" is read through the list, not by its URL).
@router.get(
    "/{project_name}/documents/{location:path}/history",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(DocumentHistoryPage),
)
def get_document_history(
    project_name: str, location: str, request: Request, context: Context
) -> dict[str, Any]:
    found = history.document_history(context, project_name, location)
    body = page(
        request,
        found.events,
        lambda event: _render_event(found.kind, event),
        context.settings.default_page_size,
    )
    return {
        "location": found.location,
        "stringIndexType": StringIndexType.CODE_POINT.value,
        **body,
    }


@router.get(
    "/{project_name}/documents/{location:path}",
    dependencies=[needs(Permission.VIEW)],
    responses=ok(LabeledDocumentRead),
)
def get_document(project_name: str, location: str, context: Context) -> dict[str, Any]:
    return render_labeled(documents.get_document(context, project_name, location))


@router.patch("/{project_name}/documents/{location:path}", responses=ok(LabeledDocumentRead))
def update_document(
    project_name: str, location: str, body: DocumentPatch, context: Context, actor: Labeler
) -> dict[str, Any]:
    change = body.to_change()
    return render_labeled(
        documents.update_document(context, project_name, location, change, actor=actor)
    )


@router.delete("/{project_name}/documents/{location:path}", status_code=204)
def delete_document(project_name: str, location: str, context: Context, actor: Author) -> Response:
    documents.delete_document(context, project_name, location, actor=actor)
    return Response(status_code=204)


@router.get(
    "/{project_name}/labels", dependencies=[needs(Permission.VIEW)], responses=ok(LabelsRead)
)
def list_labels(project_name: str, context: Context) -> dict[str, Any]:
    return _render_labels(documents.list_labels(context, project_name))


@router.put(
    "/{project_name}/labels", dependencies=[needs(Permission.AUTHOR)], responses=ok(LabelsRead)
)
def set_labels(project_name: str, body: LabelsInput, context: Context) -> dict[str, Any]:
    return _render_labels(documents.set_labels(context, project_name, tuple(body.labels)))


# {name:path}: a label may contain "/" (sent as %2F, which the server decodes first).
@router.post("/{project_name}/labels/{name:path}:rename", responses=ok(LabelRenameRead))
def rename_label(
    project_name: str, name: str, body: RenameInput, context: Context, actor: Author
) -> dict[str, Any]:
    done = documents.rename_label(context, project_name, name, body.new_name, actor=actor)
    return {
        **_render_labels(done.labels),
        "merged": done.merged,
        "changedDocuments": done.documents,
    }
