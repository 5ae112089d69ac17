"""Upload and read document files of a storage container (a Lexicraft extension).

Azure reads documents from a Blob container; here the container is the folder
``{data_dir}/storage/{container}/`` or, with the azure storage backend, a Blob container of
the configured account, and these routes put files into it over HTTP.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from lexicraft.api.dependencies import Context
from lexicraft.api.errors import ERRORS
from lexicraft.errors import InvalidRequestBody

router = APIRouter(prefix="/language/lexicraft/storage", tags=["storage"], responses=ERRORS)

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


@router.put(
    "/{container}/{location:path}",
    status_code=201,
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


@router.get("/{container}/{location:path}", response_class=PlainTextResponse)
def read_document(container: str, location: str, context: Context) -> PlainTextResponse:
    return PlainTextResponse(context.blobs.read_text(container, location))
