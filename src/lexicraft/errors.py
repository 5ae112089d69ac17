"""The one error tree. Each class carries its Azure ``code`` and ``innererror`` code.

Services raise these; only :mod:`lexicraft.api.errors` turns them into HTTP responses.
Messages say what was wrong and what is allowed.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LexicraftError(Exception):
    """Base of every error a caller can cause or see."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "InvalidRequest"
    inner_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        target: str | None = None,
        details: tuple[LexicraftError, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        #: Azure's ``details``: the errors this one sums up (e.g. each check that failed).
        self.details = details

    def to_error(self) -> dict[str, Any]:
        """The Azure ``error`` object (without the ``{"error": …}`` wrapper)."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = [detail.to_error() for detail in self.details]
        if self.inner_code is not None:
            error["innererror"] = {"code": self.inner_code, "message": self.message}
        return error


class InvalidRequestBody(LexicraftError):
    """The body is not JSON, or misses a required field, or has a value of the wrong type."""

    inner_code = "InvalidRequestBodyFormat"


class InvalidParameterValue(LexicraftError):
    """A parameter has a value outside what is allowed (api-version, enum value, name…)."""

    inner_code = "InvalidParameterValue"


class MissingInputDocuments(LexicraftError):
    """An analyze request without documents."""

    inner_code = "MissingInputDocuments"


class InvalidDocumentBatch(LexicraftError):
    """Too many documents, duplicate ids, or a request over the size limit."""

    inner_code = "InvalidDocumentBatch"


class InvalidDocument(LexicraftError):
    """One document is unusable (too long, empty…)."""

    code = "InvalidArgument"
    inner_code = "InvalidDocument"


class UnsupportedLanguageCode(LexicraftError):
    """A language code the project does not support."""

    code = "InvalidArgument"
    inner_code = "UnsupportedLanguageCode"


class InvalidProjectContent(LexicraftError):
    """A project file whose content breaks a rule (label not declared, overlapping spans…)."""

    inner_code = "InvalidParameterValue"


class NotEnoughData(LexicraftError):
    """A project without labeled documents to train on."""

    inner_code = "InvalidParameterValue"


class StoragePathError(LexicraftError):
    """A document location that is absolute, contains ``..`` or leaves the container."""

    inner_code = "InvalidParameterValue"


class DocumentFileMissing(LexicraftError):
    """A document location that names no file in the storage container."""

    inner_code = "InvalidParameterValue"


class StorageContainerMissing(LexicraftError):
    """A storage container (a project's ``storageInputContainerName``) that does not exist."""

    inner_code = "InvalidParameterValue"


class NotFound(LexicraftError):
    """Something addressed by name or id does not exist."""

    status_code = 404
    code = "NotFound"


class ProjectNotFound(NotFound):
    """No project of that name."""

    code = "ProjectNotFound"


class OperationNotFound(NotFound):
    """No job with that id (or it expired)."""

    code = "OperationNotFound"


class ModelNotFound(NotFound):
    """No trained model with that label."""


class DeploymentNotFound(NotFound):
    """No deployment with that name (or it is not ready)."""


class Conflict(LexicraftError):
    """The request conflicts with the current state (e.g. a model a deployment uses)."""

    status_code = 409
    code = "Conflict"


class Unauthorized(LexicraftError):
    """Missing, unknown or revoked subscription key.

    Azure's gateway answers with a flattened envelope whose ``code`` is the string ``"401"``.
    """

    status_code = 401
    code = "401"


class Forbidden(LexicraftError):
    """A valid key that lacks the permission a request needs (its user's role or its scope
    does not allow it): HTTP 403. ``Forbidden`` is in Azure's enum of top-level codes; the
    message names the missing permission, never anything else about the server."""

    status_code = 403
    code = "Forbidden"
    inner_code = "PermissionDenied"


class JobFailure(LexicraftError):
    """A job that ran and could not finish; its message is stored on the job."""

    status_code = 500
    code = "InternalServerError"


class ModelUnavailable(LexicraftError):
    """A stored model this version of Lexicraft cannot load (format or backend unknown)."""

    status_code = 500
    code = "InternalServerError"
    inner_code = "ModelUnavailable"


class ModelDamaged(LexicraftError):
    """A trained model whose files no longer match the checksums written with them (changed
    or deleted on disk). Jobs that need it fail with this; the message names the model, never
    its folder."""

    status_code = 500
    code = "InternalServerError"
    inner_code = "ModelDamaged"


class RequestTooLarge(LexicraftError):
    """A request body over its route's size limit (HTTP 413), refused before it is read.

    The top-level code stays in Azure's enum (``InvalidRequest``) so SDKs parse it; the inner
    code says which kind of request failure it is.
    """

    status_code = 413
    inner_code = "RequestEntityTooLarge"


class JsonLimitExceeded(InvalidRequestBody):
    """A JSON body nested too deeply or with too long an integer, refused before it is parsed
    (a parser would fail on it, or spend quadratic time): a 400 naming the setting."""


class TooManyRequests(LexicraftError):
    """A subscription key over its rate limit (HTTP 429 with ``Retry-After``, spec §0.1)."""

    status_code = 429
    code = "TooManyRequests"


class RequestTimeout(LexicraftError):
    """A request body that did not arrive fast enough (HTTP 408); the connection is closed.

    ``Timeout`` is in Azure's enum of top-level codes.
    """

    status_code = 408
    code = "Timeout"


class DocumentTooLarge(InvalidDocument):
    """A document over the length limit; the async API rejects the whole request (spec §4)."""

    code = "InvalidRequest"


class InvalidUtterance(InvalidDocument):
    """An ``:analyze-conversations`` utterance that is empty or over the length limit
    (spec §1.7: the call has one utterance, so the request fails, as a whole)."""

    code = "InvalidRequest"


class MissingInputRecords(MissingInputDocuments):
    """An analyze request without documents, as the legacy v3.x API names it (spec §0.1)."""

    inner_code = "MissingInputRecords"


class InvalidFileRecord(LexicraftError):
    """A record of a file being imported that breaks a rule; names its line and field."""

    inner_code = "InvalidParameterValue"

    def __init__(self, problem: str, *, line: int | None = None, field: str | None = None) -> None:
        where = ", ".join(
            part
            for part in (
                f"line {line}" if line is not None else "",
                f"field '{field}'" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {problem}" if where else problem, target=field)
        self.problem = problem
        self.line = line
        self.field = field

    def to_error(self) -> dict[str, Any]:
        """The Azure error object, with the record's ``line`` (a Lexicraft extension) when
        the file has lines."""
        error = super().to_error()
        if self.line is not None:
            error["line"] = self.line
        return error


class InvalidImportFile(LexicraftError):
    """A file to import with invalid records: nothing of it is imported. Its ``details`` are
    the records (:meth:`of`), each with its line and field."""

    inner_code = "InvalidParameterValue"

    @classmethod
    def of(cls, records: list[InvalidFileRecord], *, listed: int) -> InvalidImportFile:
        """The error for ``records``: one is its own message; of more, the first ``listed``
        are the details and the message counts them all."""
        first = records[0].message if records else ""
        if len(records) == 1:
            message = first
        else:
            shown = f"; the first {listed} are listed" if len(records) > listed else ""
            message = f"{len(records)} records of the file are invalid{shown}; the first: {first}"
        return cls(message, target="file", details=tuple(records[:listed]))


class UnrepresentableDocument(LexicraftError):
    """A document that the chosen export format cannot hold exactly (the text would change)."""

    inner_code = "InvalidParameterValue"


class DocumentNotFound(NotFound):
    """No document at that location in the project."""


class LabelNotFound(NotFound):
    """No entity type or class of that name in the project."""


class RemoteCallFailed(LexicraftError):
    """A Lexicraft/Azure server that the CLI talks to refused a call or could not be reached."""

    status_code = 502
    code = "ServiceUnavailable"


class ServiceUnavailable(LexicraftError):
    """Something the service needs is out of reach for now; the client should retry.

    The API answers 503 with a ``Retry-After`` header (``LEXICRAFT_UNAVAILABLE_RETRY_AFTER_S``).
    Messages never carry the cause's internals (URLs, paths, driver text): those are logged.
    """

    status_code = 503
    code = "ServiceUnavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached (down, restarting, network lost)."""

    inner_code = "DatabaseUnavailable"


class StorageUnavailable(ServiceUnavailable):
    """The storage (a folder or a Blob account) cannot be reached now; messages name the
    container, never the credentials. A job that meets it runs again later."""

    inner_code = "StorageUnavailable"


class RateLimitStorageUnavailable(ServiceUnavailable):
    """The rate limit counters' storage (Redis) cannot be reached: requests that would be
    counted are refused for now rather than let through uncounted."""

    inner_code = "RateLimitStorageUnavailable"


class StorageAccessDenied(LexicraftError):
    """The Blob account refuses this server's credentials: not transient, so a job that
    meets it fails with this reason (naming the container) rather than running again."""

    status_code = 503
    code = "ServiceUnavailable"
    inner_code = "StorageAccessDenied"


class NotReady(ServiceUnavailable):
    """``/health/ready``: what is not ready is listed in ``details``."""

    inner_code = "NotReady"


def internal_failure(what: str, job_id: str) -> JobFailure:
    """What a client reads when a job (``what``: "The job", "Task 2") failed on a fault it did
    not cause: a stable message that names the job and no internals. The exception itself (its
    text, paths, memory addresses, traceback) goes only to the server log, with the job id.
    """
    return JobFailure(
        f"{what} failed because of an internal error; the server log has the details "
        f"under job {job_id}."
    )
