"""Upload and read document files of a storage container (a Lexicraft extension).

Azure reads documents from a Blob container; here the container is the folder
``{data_dir}/storage/{container}/`` or, with the azure storage backend, a Blob container of
the configured account, and these routes put files into it over HTTP.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.api.permissions import reads_and_writes
from lexicraft.domain.users import Permission
from lexicraft.errors import InvalidRequestBody

# Reading a container's file needs view; writing one, author.
router = APIRouter(
    prefix="/language/lexicraft/storage",
    tags=["storage"],
    responses=ERRORS,
    dependencies=[reads_and_writes(Permission.VIEW, Permission.AUTHOR)],
)

# The body is the file itself, read raw (no JSON), so OpenAPI is told about it by hand.
_DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "The document file: UTF-8 text, stored byte for byte.",
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


#: The file's text, as stored (errors stay JSON envelopes, so the route's response class is
#: the bare ``Response``: FastAPI would otherwise document them as text/plain too).
_DOCUMENT_TEXT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document file.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


# ``response_class=Response``: a 201 without a body, which FastAPI would document as JSON.
@router.put(
    "/{container}/{location:path}",
    status_code=201,
    response_class=Response,
    openapi_extra=_DOCUMENT_BODY,
    responses={201: {"description": "Stored."}},
)
async def upload_document(
    container: str, location: str, request: Request, context: Context
) -> Response:
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidRequestBody(
            f"document {location!r} is not UTF-8 text: {error.reason}"
        ) from error
    # Writing the file is blocking I/O; keep it off the event loop.
    await run_in_threadpool(context.blobs.write_text, container, location, text)
    return Response(status_code=201)


@router.get("/{container}/{location:path}", response_class=Response, responses=_DOCUMENT_TEXT)
def read_document(container: str, location: str, context: Context) -> PlainTextResponse:
    return PlainTextResponse(context.blobs.read_text(container, location))
