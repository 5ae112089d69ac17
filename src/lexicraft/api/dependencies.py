"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from lexicraft.api.requests import api_version
from lexicraft.services.context import ServiceContext


def service_context(request: Request) -> ServiceContext:
    """The app's :class:`ServiceContext`."""
    context: ServiceContext = request.app.state.context
    return context


Context = Annotated[ServiceContext, Depends(service_context)]
ApiVersion = Annotated[str, Depends(api_version)]
