"""The base of every typed wire body, and pydantic's failures worded as Azure errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from lexicraft.domain.projects import ProjectKind
from lexicraft.domain.text import string_problem
from lexicraft.errors import InvalidParameterValue, InvalidRequestBody

#: True while a body's strings have been checked from its top: the models nested in it skip
#: the walk, so each string is looked at once and errors name the whole path.
_STRINGS_CHECKED: ContextVar[bool] = ContextVar("lexicraft_wire_strings_checked", default=False)


class WireModel(BaseModel):
    """Base of the typed request bodies: camelCase on the wire, unknown fields ignored.

    Azure ignores fields it does not know (newer clients send newer fields to older
    versions), so the models do too. Instances only come from validation (never built in
    Python), which is why the snake_case names are not accepted on the wire.

    Every string of a body, at any depth (free-form objects such as project ``settings``
    included), must pass :func:`lexicraft.domain.text.string_problem` before anything else is
    checked: a lone surrogate or a NUL accepted here would fail later, when it is stored or
    sent back (:func:`refuse_unstorable_strings`).
    """

    model_config = ConfigDict(alias_generator=to_camel, extra="ignore", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _storable_strings(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if _STRINGS_CHECKED.get():
            return handler(data)
        refuse_unstorable_strings(data)
        token = _STRINGS_CHECKED.set(True)
        try:
            return handler(data)
        finally:
            _STRINGS_CHECKED.reset(token)


def refuse_unstorable_strings(data: object) -> None:
    """Raise ``InvalidParameterValue`` naming the first string of decoded JSON ``data`` (a
    value or an object key) that :func:`string_problem` refuses, by its wire path
    (``analysisInput.documents[3].id``).

    The walk keeps its own stack: a deeply nested body must not exhaust Python's.
    """
    # (path, value, whether the value is an object key), first in document order on top.
    stack: list[tuple[tuple[str | int, ...], object, bool]] = [((), data, False)]
    while stack:
        loc, value, is_key = stack.pop()
        if isinstance(value, str):
            problem = string_problem(value)
            if problem is not None:
                target = wire_path(loc)
                if is_key:
                    problem = f"has a key that {problem}"
                raise InvalidParameterValue(
                    f"{target} {problem}" if target else f"the request body {problem}",
                    target=target,
                )
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                stack.append(((*loc, key), item, False))
                stack.append((loc, key, True))
        elif isinstance(value, list | tuple):
            stack.extend(
                ((*loc, index), item, False) for index, item in reversed(list(enumerate(value)))
            )


# The body-level messages: the API's error map and :func:`parse` word them alike.
EMPTY_BODY_MESSAGE = "the request body is empty; send a JSON object"
INVALID_JSON_MESSAGE = "the request body is not valid JSON"
NOT_AN_OBJECT_MESSAGE = "the request body must be a JSON object"

#: What a typed body's field failed, in the words the hand-written checks used
#: ("tasks[0].parameters.projectName is required"); other failures keep pydantic's message.
_PHRASES = {
    "missing": "is required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_type": "must be a boolean",
    "bool_parsing": "must be a boolean",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
}

#: A discriminated union puts the tag it chose into the error location
#: (``tasks.0.CustomEntityRecognition.parameters``); the wire path has no such segment.
_UNION_TAGS = frozenset(kind.value for kind in ProjectKind)


def wire_path(loc: Sequence[Any]) -> str | None:
    """``("tasks", 0, "parameters")`` → ``"tasks[0].parameters"``; None for the whole body."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in _UNION_TAGS:
            path += f".{part}" if path else str(part)
    return path or None


def field_message(target: str | None, kind: str, error: Mapping[str, Any]) -> str:
    """``"<target> is required"``-style wording of one pydantic error."""
    phrase = _PHRASES.get(kind)
    if phrase is None and kind in ("too_short", "string_too_short"):
        phrase = "must not be empty" if error.get("ctx", {}).get("min_length") == 1 else None
    if phrase is None:
        detail = str(error.get("msg", "invalid value"))
        return f"{target}: {detail}" if target else detail
    return f"{target} {phrase}" if target else phrase


def field_error(loc: Sequence[Any], error: Mapping[str, Any]) -> InvalidRequestBody:
    """The Azure error for one failed field at ``loc`` (a path inside the body)."""
    target = wire_path(loc)
    return InvalidRequestBody(
        field_message(target, str(error.get("type", "")), error), target=target
    )


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: object) -> M:
    """``data`` (decoded JSON) as ``model``, or the Azure error the API would answer.

    For the edges that parse without FastAPI (file formats, the CLI): the same model and
    the same wording as a request body.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        if not errors:  # pragma: no cover - pydantic always names one
            raise InvalidRequestBody(str(error)) from None
        first = errors[0]
        if not first["loc"] and first["type"] in ("model_type", "dict_type"):
            raise InvalidRequestBody(NOT_AN_OBJECT_MESSAGE) from None
        raise field_error(first["loc"], first) from None
