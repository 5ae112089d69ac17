"""JSON log lines: one object per record, with the exception's traceback when there is one."""

from __future__ import annotations

import json
import logging
import sys

from lexicraft.telemetry.logs import JsonFormatter


def record(message: str, *args: object, exc_info: bool = False) -> logging.LogRecord:
    info = sys.exc_info() if exc_info else None
    return logging.LogRecord("lexicraft.test", logging.WARNING, __file__, 1, message, args, info)


def test_a_record_is_one_json_object_on_one_line() -> None:
    line = JsonFormatter().format(record("job %s: «%s»\nsecond line", "j1", "Zoë"))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed.keys() == {"time", "level", "logger", "message"}
    assert parsed["level"] == "WARNING"
    assert parsed["logger"] == "lexicraft.test"
    assert parsed["message"] == "job j1: «Zoë»\nsecond line"
    assert parsed["time"].endswith("+00:00")


def test_an_exception_is_its_traceback_text() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        line = JsonFormatter().format(record("failed", exc_info=True))
    exception = json.loads(line)["exception"]
    assert exception.startswith("Traceback (most recent call last)")
    assert exception.endswith("ValueError: boom")
