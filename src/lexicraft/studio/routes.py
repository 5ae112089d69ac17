"""The Studio web page: one HTML shell at ``/studio`` plus its static files.

The page is hand-written HTML, CSS and JavaScript modules shipped inside the package, so the
Studio works offline: it loads nothing from other hosts and talks only to the public API of the
server that served it (the browser sends the subscription key the user typed in).
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

STUDIO_PATH = "/studio"
STATIC_PATH = f"{STUDIO_PATH}/static"

# Only this origin may provide scripts, styles, images, fonts or answer fetches: a stray
# external reference fails loudly in the browser instead of leaking a request.
_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)

router = APIRouter(include_in_schema=False)


def _index_html() -> str:
    return resources.files("lexicraft.studio").joinpath("static/index.html").read_text("utf-8")


@router.get(STUDIO_PATH)
def studio() -> HTMLResponse:
    """The single-page Studio; its routes live after ``#``."""
    return HTMLResponse(
        _index_html(),
        headers={
            "Content-Security-Policy": _CONTENT_SECURITY_POLICY,
            "Cache-Control": "no-cache",
            "Referrer-Policy": "no-referrer",
        },
    )


@router.get(STUDIO_PATH + "/")
def studio_slash() -> RedirectResponse:
    """``/studio/`` → ``/studio`` (relative asset paths would otherwise resolve differently)."""
    return RedirectResponse(STUDIO_PATH, status_code=308)


def static_files() -> StaticFiles:
    """The Studio's scripts, styles and icons, read from the installed package."""
    return StaticFiles(packages=[("lexicraft.studio", "static")])
