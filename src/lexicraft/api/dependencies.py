"""FastAPI dependencies shared by the routers.

They are ``async``: none waits for anything, and FastAPI runs a plain ``def`` dependency in its
threadpool, a trip from the event loop and back on every request for each of them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic.alias_generators import to_camel

from lexicraft.api.auth import API_KEY_ID
from lexicraft.api.requests import api_version
from lexicraft.domain.text import string_problem
from lexicraft.errors import InvalidParameterValue
from lexicraft.services.context import ServiceContext


def service_context(request: Request) -> ServiceContext:
    """The app's :class:`ServiceContext`."""
    context: ServiceContext = request.app.state.context
    return context


async def _service_context(request: Request) -> ServiceContext:
    return service_context(request)


async def caller_key_id(request: Request) -> int | None:
    """The id of the stored key that sent the request (None: the configured key).

    The key middleware put it in the request's state after checking the key.
    """
    key_id = request.scope.get("state", {}).get(API_KEY_ID)
    return key_id if isinstance(key_id, int) else None


Context = Annotated[ServiceContext, Depends(_service_context)]
ApiVersion = Annotated[str, Depends(api_version)]
CallerKeyId = Annotated[int | None, Depends(caller_key_id)]


async def storable_parameters(request: Request) -> None:
    """Refuse a path or query parameter that :func:`string_problem` refuses (a NUL: ``%00``).

    Every route depends on it (``create_app``), ahead of its own parameters and body, so a
    name or id that no database could look up is a 400 naming the parameter, not a 500.
    (Percent-decoding turns bytes that are not UTF-8 into U+FFFD, so a URL cannot carry a lone
    surrogate; the rule is checked all the same, as for bodies.)
    """
    parameters = [(to_camel(name), value) for name, value in request.path_params.items()]
    for name, value in [*parameters, *request.query_params.multi_items()]:
        if isinstance(value, str) and (problem := string_problem(value)) is not None:
            raise InvalidParameterValue(f"{name} {problem}", target=name)
