"""Which budget each route counts against, and the rate limit settings' own checks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from lexicraft.api.rate_limits import budget_for, budgets
from lexicraft.settings import Settings

RUNTIME, AUTHORING = budgets(Settings(rate_limit_runtime="5/second", rate_limit_authoring="7/hour"))


@pytest.mark.parametrize(
    ("path", "budget"),
    [
        ("/language/analyze-text/jobs", "runtime"),
        ("/language/analyze-text/jobs/0b7d6c7e-4b4c-4d1f-9f3e-6f0e1a2b3c4d", "runtime"),
        ("/language/:analyze-text", "runtime"),
        ("/language/:analyze-conversations", "runtime"),
        ("/language/authoring/analyze-conversations/projects/p/:train", "authoring"),
        ("/text/analytics/v3.2-preview.2/analyze", "runtime"),
        ("/text/analytics/v3.2-preview.2/analyze/jobs/x", "runtime"),
        ("/language/authoring/analyze-text/projects", "authoring"),
        ("/language/authoring/analyze-text/projects/p/jobs/x", "authoring"),
        ("/language/lexicraft/storage/c/a.txt", "authoring"),
        ("/language/lexicraft/projects/p/documents", "authoring"),
        ("/health", None),
        ("/health/live", None),
        ("/health/ready", None),
        ("/metrics", None),
        ("/openapi.json", None),
        ("/docs", None),
        ("/studio/", None),
    ],
)
def test_each_route_counts_against_its_budget(path: str, budget: str | None) -> None:
    found = budget_for(path, RUNTIME, AUTHORING)
    assert (found.name if found else None) == budget


def test_the_budgets_are_parsed_from_their_settings() -> None:
    assert [(item.amount, item.get_expiry()) for item in RUNTIME.items] == [(5, 1)]
    assert [(item.amount, item.get_expiry()) for item in AUTHORING.items] == [(7, 3600)]
    message = AUTHORING.error(AUTHORING.items[0], retry_after_s=12).message
    assert "more than 7 authoring requests per hour" in message
    assert "LEXICRAFT_RATE_LIMIT_AUTHORING" in message
    assert "retry after 12 seconds" in message


def test_several_limits_and_none() -> None:
    runtime, authoring = budgets(
        Settings(rate_limit_runtime="20/second; 1000/minute", rate_limit_authoring="")
    )
    assert [item.amount for item in runtime.items] == [20, 1000]
    assert authoring.items == ()


def test_the_defaults_are_azure_like() -> None:
    runtime, authoring = budgets(Settings())
    assert [(item.amount, item.get_expiry()) for item in runtime.items] == [(1000, 60)]
    assert [(item.amount, item.get_expiry()) for item in authoring.items] == [(600, 60)]
    assert Settings().rate_limit_storage_url == "memory://"


@pytest.mark.parametrize(
    "changes",
    [
        {"rate_limit_runtime": "lots"},
        {"rate_limit_authoring": "1000"},
        {"rate_limit_storage_url": "memcached://127.0.0.1:11211"},
        {"rate_limit_storage_url": "127.0.0.1:6379"},
        {"max_json_depth": 0},
        {"max_json_depth": 501},  # Python's parser would fail before the check does
        {"max_json_integer_digits": 4_301},  # Python refuses to convert more
        {"request_header_timeout_s": 0},
        {"min_request_body_rate_bytes_s": -1},
    ],
)
def test_settings_out_of_range_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**changes)  # type: ignore[arg-type]


def test_the_message_of_a_refused_storage_url_repeats_only_its_scheme() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(rate_limit_storage_url="mongodb://user:secret@host/db")
    message = raised.value.errors()[0]["msg"]
    assert "not mongodb://" in message
    assert "secret" not in message
