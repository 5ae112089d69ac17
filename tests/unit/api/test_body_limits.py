"""Which limit each route family's body has (the one map from routes to their settings)."""

from __future__ import annotations

import pytest

from lexicraft.api.limits import body_limit
from lexicraft.settings import Settings

SETTINGS = Settings(
    max_request_bytes=1, max_import_bytes=2, max_upload_bytes=3, max_authoring_request_bytes=4
)


@pytest.mark.parametrize(
    ("method", "path", "setting", "size"),
    [
        ("POST", "/language/analyze-text/jobs", "max_request_bytes", 1),
        ("POST", "/language/:analyze-text", "max_request_bytes", 1),
        ("POST", "/text/analytics/v3.2-preview.2/analyze", "max_request_bytes", 1),
        ("POST", "/language/authoring/analyze-text/projects/p/:import", "max_import_bytes", 2),
        ("PUT", "/language/lexicraft/storage/c/a/b.txt", "max_upload_bytes", 3),
        ("PATCH", "/language/authoring/analyze-text/projects/p", "max_authoring_request_bytes", 4),
        ("POST", "/language/authoring/analyze-text/projects/p/:train", "max_authoring_request_bytes", 4),
        ("POST", "/language/lexicraft/projects/p/documents", "max_authoring_request_bytes", 4),
        ("POST", "/language/authoring/analyze-text/projects/p/x/:import", "max_authoring_request_bytes", 4),
    ],
)  # fmt: skip
def test_each_route_family_has_its_limit(method: str, path: str, setting: str, size: int) -> None:
    limit = body_limit(SETTINGS, method, path)
    assert (limit.setting, limit.max_bytes) == (setting, size)
    assert f"LEXICRAFT_{setting.upper()}" in limit.error().message
