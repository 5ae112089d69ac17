"""Upload and read document files of a storage container (a Lexicraft extension).

Azure reads documents from a Blob container; here the container is the folder
``{data_dir}/storage/{container}/`` and these routes put files into it over HTTP.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from lexicraft.api.dependencies import Context
from lexicraft.errors import InvalidRequestBody

router = APIRouter(prefix="/language/lexicraft/storage", tags=["storage"])


@router.put("/{container}/{location:path}")
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
    context.blobs.write_text(container, location, text)
    return Response(status_code=201)


@router.get("/{container}/{location:path}")
def read_document(container: str, location: str, context: Context) -> PlainTextResponse:
    return PlainTextResponse(context.blobs.read_text(container, location))
