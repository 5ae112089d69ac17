"""The one error tree and its one map to HTTP: every class, its status, code and inner code."""

from __future__ import annotations

import json

import pytest

from lexicraft import errors
from lexicraft.api.errors import error_response

#: Every error a client can see: (class, HTTP status, code, innererror code).
EXPECTED: list[tuple[type[errors.LexicraftError], int, str, str | None]] = [
    (errors.InvalidRequestBody, 400, "InvalidRequest", "InvalidRequestBodyFormat"),
    (errors.InvalidParameterValue, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.MissingInputDocuments, 400, "InvalidRequest", "MissingInputDocuments"),
    (errors.MissingInputRecords, 400, "InvalidRequest", "MissingInputRecords"),
    (errors.InvalidDocumentBatch, 400, "InvalidRequest", "InvalidDocumentBatch"),
    (errors.InvalidDocument, 400, "InvalidArgument", "InvalidDocument"),
    (errors.DocumentTooLarge, 400, "InvalidRequest", "InvalidDocument"),
    (errors.InvalidUtterance, 400, "InvalidRequest", "InvalidDocument"),
    (errors.UnsupportedLanguageCode, 400, "InvalidArgument", "UnsupportedLanguageCode"),
    (errors.InvalidProjectContent, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.NotEnoughData, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.StoragePathError, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.DocumentFileMissing, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.StorageContainerMissing, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.InvalidFileRecord, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.InvalidImportFile, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.UnrepresentableDocument, 400, "InvalidRequest", "InvalidParameterValue"),
    (errors.NotFound, 404, "NotFound", None),
    (errors.ProjectNotFound, 404, "ProjectNotFound", None),
    (errors.OperationNotFound, 404, "OperationNotFound", None),
    (errors.ModelNotFound, 404, "NotFound", None),
    (errors.DeploymentNotFound, 404, "NotFound", None),
    (errors.DocumentNotFound, 404, "NotFound", None),
    (errors.LabelNotFound, 404, "NotFound", None),
    (errors.Conflict, 409, "Conflict", None),
    (errors.RequestTooLarge, 413, "InvalidRequest", "RequestEntityTooLarge"),
    (errors.JsonLimitExceeded, 400, "InvalidRequest", "InvalidRequestBodyFormat"),
    (errors.RequestTimeout, 408, "Timeout", None),
    (errors.TooManyRequests, 429, "TooManyRequests", None),
    (errors.Unauthorized, 401, "401", None),
    (errors.Forbidden, 403, "Forbidden", "PermissionDenied"),
    (errors.JobFailure, 500, "InternalServerError", None),
    (errors.ModelUnavailable, 500, "InternalServerError", "ModelUnavailable"),
    (errors.ModelDamaged, 500, "InternalServerError", "ModelDamaged"),
    (errors.RemoteCallFailed, 502, "ServiceUnavailable", None),
    (errors.ServiceUnavailable, 503, "ServiceUnavailable", None),
    (errors.DatabaseUnavailable, 503, "ServiceUnavailable", "DatabaseUnavailable"),
    (errors.StorageUnavailable, 503, "ServiceUnavailable", "StorageUnavailable"),
    (errors.NotReady, 503, "ServiceUnavailable", "NotReady"),
    (errors.StorageAccessDenied, 503, "ServiceUnavailable", "StorageAccessDenied"),
    (
        errors.RateLimitStorageUnavailable,
        503,
        "ServiceUnavailable",
        "RateLimitStorageUnavailable",
    ),
]


def every_error_class() -> set[type[errors.LexicraftError]]:
    found: set[type[errors.LexicraftError]] = set()
    pending = [errors.LexicraftError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.add(subclass)
            pending.append(subclass)
    return found


def test_the_table_covers_the_whole_tree() -> None:
    assert every_error_class() == {row[0] for row in EXPECTED}


@pytest.mark.parametrize(
    ("error_class", "status", "code", "inner"), EXPECTED, ids=[row[0].__name__ for row in EXPECTED]
)
def test_each_error_maps_to_its_status_and_envelope(
    error_class: type[errors.LexicraftError], status: int, code: str, inner: str | None
) -> None:
    if error_class is errors.InvalidFileRecord:
        # Names where in the file: its target is the field.
        error_object: errors.LexicraftError = errors.InvalidFileRecord(
            "what went wrong", field="field"
        )
        message = "field 'field': what went wrong"
    elif error_class is errors.InvalidImportFile:
        # Sums up the file's invalid records (their details); one is its message.
        record = errors.InvalidFileRecord("what went wrong", line=3, field="field")
        error_object = errors.InvalidImportFile.of([record], listed=10)
        message = "line 3, field 'field': what went wrong"
    else:
        error_object = error_class("what went wrong", target="field")
        message = "what went wrong"
    response = error_response(error_object)
    assert response.status_code == status
    body = json.loads(bytes(response.body))
    if status == 401:
        # The gateway's flattened shape: no target, no innererror (spec §0.1).
        assert body == {"error": {"code": "401", "message": message}}
        return
    error = body["error"]
    target = "file" if error_class is errors.InvalidImportFile else "field"
    assert (error["code"], error["message"], error["target"]) == (code, message, target)
    if error_class is errors.InvalidImportFile:
        assert [(d["line"], d["target"]) for d in error["details"]] == [(3, "field")]
    if inner is None:
        assert "innererror" not in error
    else:
        assert error["innererror"] == {"code": inner, "message": message}


@pytest.mark.parametrize(
    "error_class", [row[0] for row in EXPECTED], ids=[row[0].__name__ for row in EXPECTED]
)
def test_only_a_503_says_when_to_retry(error_class: type[errors.LexicraftError]) -> None:
    response = error_response(error_class("what went wrong"), retry_after_s=7)
    if response.status_code == 503:
        assert response.headers["Retry-After"] == "7"
    else:
        assert "Retry-After" not in response.headers


def test_details_are_azure_error_objects() -> None:
    error = errors.NotReady(
        "not ready: database",
        details=(errors.DatabaseUnavailable("The database cannot be reached.", target="database"),),
    )
    body = json.loads(bytes(error_response(error, retry_after_s=1).body))
    assert body["error"]["details"] == [
        {
            "code": "ServiceUnavailable",
            "message": "The database cannot be reached.",
            "target": "database",
            "innererror": {
                "code": "DatabaseUnavailable",
                "message": "The database cannot be reached.",
            },
        }
    ]
