"""Prebuilt components: numbers, units, dates and times, email, URL, phone, yes/no.

They are found by Microsoft's Recognizers-Text (``recognizers-text-suite``, the engine of
LUIS' and CLU's prebuilt entities, MIT), Python port 1.0.2a2. Its results are turned into
Azure's wire shapes (spec §1.4): ``NumberResolution``, ``OrdinalResolution``,
``CurrencyResolution``, ``AgeResolution``, ``LengthResolution``/``WeightResolution``/… for
dimensions, ``TemperatureResolution``, ``DateTimeResolution`` and ``TemporalSpanResolution``
(one per reading: "May 2nd" gives this year's and next year's), ``BooleanResolution``; date
and time entities also carry ``EntitySubtype`` (``datetime.date``, ``datetime.daterange``…).
Email, URL and phone numbers carry no resolution (Azure gives none).

Offsets: the library works on Python ``str`` and reports ``start`` and an inclusive ``end`` in
code points, which is what :class:`EntityMatch` holds (half-open: ``end + 1``); the one
character whose lowercase is longer than itself is replaced first (``_SAME_LENGTH_LOWER``).

Languages: each category is found with the model of the text's language where the library
has one (:data:`_NATIVE`). Email, URL and phone numbers read the same in every language, so
a language without its own model uses the English one; for the other categories a language
the library lacks finds nothing rather than, say, reading German "3,5" as thirty-five.

Two deviations from using the library as shipped: models are built once per process and
culture and shared (building all English ones takes about a second); and the currency model,
which builds its unit tables again on every call (about 45 ms for 5,000 currency names), is
made to build them once (:func:`_reuse_unit_extractors`).
"""

from __future__ import annotations

import importlib
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from lexicraft.ml.components.matches import EntityMatch, primary_language

log = logging.getLogger(__name__)

#: Azure prebuilt categories (spec §2.9) that Lexicraft finds.
SUPPORTED_PREBUILTS: frozenset[str] = frozenset(
    {
        "Quantity.Number",
        "Quantity.Ordinal",
        "Quantity.Percentage",
        "Quantity.Currency",
        "Quantity.Age",
        "Quantity.Dimension",
        "Quantity.Temperature",
        "DateTime",
        "Email",
        "URL",
        "Phone Number",
        "Choice.Boolean",
    }
)


@dataclass(frozen=True, slots=True)
class PrebuiltCategory:
    """One item of ``GET /global/prebuilt-entities``: examples are one comma-separated string."""

    category: str
    description: str
    examples: str


# category → (recognizer module, recognizer class, model getter, description, examples)
_MODELS: dict[str, tuple[str, str, str, str, str]] = {
    "Quantity.Number": (
        "recognizers_number",
        "NumberRecognizer",
        "get_number_model",
        "Cardinal numbers, in digits or words",
        "3, 1.5, twenty one, one half, 1,234",
    ),
    "Quantity.Ordinal": (
        "recognizers_number",
        "NumberRecognizer",
        "get_ordinal_model",
        "Ordinal numbers",
        "first, 2nd, third, 10th",
    ),
    "Quantity.Percentage": (
        "recognizers_number",
        "NumberRecognizer",
        "get_percentage_model",
        "Percentages",
        "25%, 3.5 percent, fifty percent",
    ),
    "Quantity.Currency": (
        "recognizers_number_with_unit",
        "NumberWithUnitRecognizer",
        "get_currency_model",
        "Amounts of money",
        "$20.50, 5 euros, 20 yen",
    ),
    "Quantity.Age": (
        "recognizers_number_with_unit",
        "NumberWithUnitRecognizer",
        "get_age_model",
        "Ages",
        "30 years old, 5 months old, 2 weeks old",
    ),
    "Quantity.Dimension": (
        "recognizers_number_with_unit",
        "NumberWithUnitRecognizer",
        "get_dimension_model",
        "Lengths, areas, volumes, weights, speeds and amounts of information",
        "5 km, 10 kg, 3 liters, 60 mph, 2 GB",
    ),
    "Quantity.Temperature": (
        "recognizers_number_with_unit",
        "NumberWithUnitRecognizer",
        "get_temperature_model",
        "Temperatures",
        "20 degrees celsius, 70 °F, 30 kelvin",
    ),
    "DateTime": (
        "recognizers_date_time",
        "DateTimeRecognizer",
        "get_datetime_model",
        "Dates, times, date and time ranges, durations and sets",
        "tomorrow at 5pm, May 2nd, next week, from 3pm to 5pm, for 3 hours, every monday",
    ),
    "Email": (
        "recognizers_sequence",
        "SequenceRecognizer",
        "get_email_model",
        "Email addresses",
        "bob@example.com",
    ),
    "URL": (
        "recognizers_sequence",
        "SequenceRecognizer",
        "get_url_model",
        "Web addresses",
        "https://example.com, www.example.org",
    ),
    "Phone Number": (
        "recognizers_sequence",
        "SequenceRecognizer",
        "get_phone_number_model",
        "Telephone numbers",
        "555-123-4567, +1 425 555 0100",
    ),
    "Choice.Boolean": (
        "recognizers_choice",
        "ChoiceRecognizer",
        "get_boolean_model",
        "Yes or no answers",
        "yes, no, yeah, nope",
    ),
}

# The library's cultures by primary language subtag.
_CULTURES = {
    "en": "en-us",
    "zh": "zh-cn",
    "fr": "fr-fr",
    "ja": "ja-jp",
    "pt": "pt-br",
    "es": "es-es",
}
_EVERY = frozenset(_CULTURES.values())
# Which cultures have their own model of each category in 1.0.2a2 (probed with
# fallback_to_default_culture=False; tests/unit/ml/test_components.py checks a sample).
_NATIVE: dict[str, frozenset[str]] = {
    "Quantity.Number": _EVERY,
    "Quantity.Ordinal": _EVERY,
    "Quantity.Percentage": _EVERY,
    "Quantity.Currency": _EVERY - {"ja-jp"},
    "Quantity.Age": _EVERY - {"ja-jp"},
    "Quantity.Dimension": _EVERY - {"ja-jp"},
    "Quantity.Temperature": _EVERY - {"ja-jp"},
    "DateTime": _EVERY - {"ja-jp"},
    "Email": frozenset({"en-us"}),
    "URL": frozenset({"en-us", "zh-cn", "ja-jp"}),
    "Phone Number": frozenset({"en-us", "zh-cn", "ja-jp", "pt-br"}),
    "Choice.Boolean": frozenset({"en-us"}),
}
# Read the same in every language: a language without its own model borrows English's.
_LANGUAGE_NEUTRAL = frozenset({"Email", "URL", "Phone Number"})


def culture_for(category: str, language: str | None) -> str | None:
    """The library culture that finds ``category`` in texts of ``language`` (None: none)."""
    culture = _CULTURES.get(primary_language(language) or "en")
    if culture is not None and culture in _NATIVE[category]:
        return culture
    return "en-us" if category in _LANGUAGE_NEUTRAL else None


def prebuilt_catalog(language: str | None = None) -> list[PrebuiltCategory]:
    """The prebuilt categories Lexicraft finds (in ``language``; None: in any language)."""
    return [
        PrebuiltCategory(category, spec[3], spec[4])
        for category, spec in _MODELS.items()
        if language is None or culture_for(category, language) is not None
    ]


_models: dict[tuple[str, str], Any] = {}
_models_lock = threading.Lock()


def model(category: str, culture: str) -> Any:
    """The library's model of ``category`` in ``culture``, built once per process."""
    key = (category, culture)
    found = _models.get(key)
    if found is not None:
        return found
    with _models_lock:
        found = _models.get(key)
        if found is None:
            module_name, class_name, getter, _description, _examples = _MODELS[category]
            _reuse_unit_extractors()
            recognizer = getattr(importlib.import_module(module_name), class_name)(
                culture, lazy_initialization=True
            )
            found = getattr(recognizer, getter)(culture, fallback_to_default_culture=False)
            _models[key] = found
    return found


_patched = False


def _reuse_unit_extractors() -> None:
    """Make the library's merged-unit extractor (currency) reuse its unit tables.

    ``BaseMergedUnitExtractor.extract`` calls ``NumberWithUnitExtractor(self.config)`` on
    every text, which tokenises the config's thousands of unit names again. That name is
    looked up in the extractors module at call time, so it is rebound there to a factory that
    keeps one extractor per config (configs live as long as their model; extraction keeps no
    state in the extractor). The recognizer modules imported the class itself before this
    runs, so the models they build are unchanged.
    """
    global _patched
    if _patched:
        return
    module: Any = importlib.import_module(
        "recognizers_number_with_unit.number_with_unit.extractors"
    )
    importlib.import_module("recognizers_number_with_unit")  # binds the class where it is used
    original = module.NumberWithUnitExtractor
    built: dict[int, tuple[Any, Any]] = {}
    lock = threading.Lock()

    def reused(config: Any) -> Any:
        with lock:
            hit = built.get(id(config))
            if hit is None or hit[0] is not config:
                hit = (config, original(config))
                built[id(config)] = hit
            return hit[1]

    module.NumberWithUnitExtractor = reused
    _patched = True


class PrebuiltMatcher:
    """The prebuilt components of every entity of a project."""

    def __init__(self, categories_by_entity: dict[int, tuple[str, ...]], names: list[str]) -> None:
        self._wanted = {
            index: tuple(c for c in categories if c in SUPPORTED_PREBUILTS)
            for index, categories in categories_by_entity.items()
        }
        self._wanted = {index: found for index, found in self._wanted.items() if found}
        self._names = names

    def __bool__(self) -> bool:
        return bool(self._wanted)

    def warm(self, language: str | None) -> None:
        """Build the models this project needs now, not in its first request."""
        for categories in self._wanted.values():
            for category in categories:
                culture = culture_for(category, language)
                if culture is not None:
                    model(category, culture)

    def find(self, text: str, language: str | None) -> dict[int, list[EntityMatch]]:
        """Each entity's (by index) prebuilt matches; where they overlap, the longest."""
        if not self._wanted:
            return {}
        by_category: dict[str, list[EntityMatch]] = {}
        for categories in self._wanted.values():
            for category in categories:
                if category not in by_category:
                    by_category[category] = _find(category, text, language)
        found: dict[int, list[EntityMatch]] = {}
        for index, categories in self._wanted.items():
            candidates = [
                EntityMatch(
                    m.start, m.end, self._names[index], 1.0, m.resolutions, m.extra_information
                )
                for category in categories
                for m in by_category[category]
            ]
            chosen: list[EntityMatch] = []
            for match in sorted(candidates, key=lambda m: (-m.length, m.start)):
                if not any(match.overlaps(other) for other in chosen):
                    chosen.append(match)
            if chosen:
                found[index] = sorted(chosen, key=lambda m: m.start)
        return found


# The library lowercases the text before it matches, and reports offsets in the lowercased
# text. ``str.lower`` keeps the length of every character but one: "İ" (U+0130) becomes
# "i̇", two code points, which would shift every later offset. It is handed over as "I".
_SAME_LENGTH_LOWER = str.maketrans({"\u0130": "I"})


def _find(category: str, text: str, language: str | None) -> list[EntityMatch]:
    culture = culture_for(category, language)
    if culture is None:
        return []
    try:
        results = model(category, culture).parse(text.translate(_SAME_LENGTH_LOWER))
    except Exception:  # a library bug on one text must not fail the request
        log.exception("prebuilt %r failed on a text of %d characters", category, len(text))
        return []
    matches: list[EntityMatch] = []
    for result in results:
        start, end = max(0, int(result.start)), min(len(text), int(result.end) + 1)
        if end <= start:
            continue
        resolution: dict[str, Any] = dict(result.resolution or {})
        resolutions, extra = _CONVERT[category](resolution, text[start:end], result.type_name)
        matches.append(EntityMatch(start, end, category, 1.0, tuple(resolutions), tuple(extra)))
    return matches


_Resolved = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _number(value: Any) -> int | float | None:
    try:
        number = float(str(value).replace(",", "").rstrip("%").strip())
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


_POWER = re.compile(r"\^|\d[eE][+-]?\d")


def _number_kind(text: str, value: int | float) -> str:
    # The Python port does not say which kind it read (the .NET one does); the text tells.
    if _POWER.search(text):
        return "Power"
    if isinstance(value, int):
        return "Integer"
    if "/" in text or not any(ch.isdigit() for ch in text):
        return "Fraction"  # 3/4, one half, three quarters
    return "Decimal"


def _numbers(resolution: dict[str, Any], text: str, _type: str) -> _Resolved:
    value = _number(resolution.get("value"))
    if value is None:
        return [], []
    kind = _number_kind(text, value)
    return [{"resolutionKind": "NumberResolution", "numberKind": kind, "value": value}], []


def _percentage(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = _number(resolution.get("value"))
    if value is None:
        return [], []
    return [{"resolutionKind": "NumberResolution", "numberKind": "Percent", "value": value}], []


def _ordinal(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = resolution.get("value")
    if value is None:
        return [], []
    # The Python port gives no offset/relativeTo ("last" is value "0"): counted from the start.
    offset = str(resolution.get("offset", value))
    relative = str(resolution.get("relativeTo", "Start")).capitalize()
    return [
        {
            "resolutionKind": "OrdinalResolution",
            "offset": offset,
            "relativeTo": relative,
            "value": str(value),
        }
    ], []


def _currency(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = _number(resolution.get("value"))
    if value is None:
        return [], []
    found: dict[str, Any] = {
        "resolutionKind": "CurrencyResolution",
        "value": value,
        "unit": str(resolution.get("unit") or "Unspecified"),
    }
    if resolution.get("isoCurrency"):
        found["ISO4217"] = str(resolution["isoCurrency"])
    return [found], []


_AGE_UNITS = {"Year", "Month", "Week", "Day"}


def _age(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = _number(resolution.get("value"))
    if value is None:
        return [], []
    unit = str(resolution.get("unit"))
    unit = unit if unit in _AGE_UNITS else "Unspecified"
    return [{"resolutionKind": "AgeResolution", "value": value, "unit": unit}], []


_TEMPERATURE_UNITS = {"C": "Celsius", "F": "Fahrenheit", "K": "Kelvin", "R": "Rankine"}


def _temperature(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = _number(resolution.get("value"))
    if value is None:
        return [], []
    unit = _TEMPERATURE_UNITS.get(str(resolution.get("unit")), "Unspecified")
    return [{"resolutionKind": "TemperatureResolution", "value": value, "unit": unit}], []


def _pascal(name: str) -> str:
    """``"Square meter"`` → ``"SquareMeter"``, ``"since_end"`` → ``"SinceEnd"``."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace("_", " ").split())


_dimension_kinds: dict[str, str] = {}


def _dimension_kind(unit: str) -> str | None:
    """The Azure resolution kind of a dimension unit, from the library's own unit lists."""
    if not _dimension_kinds:
        resources: Any = importlib.import_module(
            "recognizers_number_with_unit.resources.english_numeric_with_unit"
        ).EnglishNumericWithUnit
        for kind in ("Length", "Area", "Volume", "Weight", "Speed", "Information"):
            for name in getattr(resources, f"{kind}SuffixList"):
                _dimension_kinds.setdefault(name, kind)
    return _dimension_kinds.get(unit)


def _dimension(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = _number(resolution.get("value"))
    unit = str(resolution.get("unit") or "")
    kind = _dimension_kind(unit)
    if value is None or kind is None:
        return [], []
    return [{"resolutionKind": f"{kind}Resolution", "value": value, "unit": _pascal(unit)}], []


_SUB_KINDS = {
    "date": "Date",
    "time": "Time",
    "datetime": "DateTime",
    "duration": "Duration",
    "set": "Set",
}
_SPANS = {"daterange", "timerange", "datetimerange"}


def _datetime(resolution: dict[str, Any], _text: str, type_name: str) -> _Resolved:
    resolutions: list[dict[str, Any]] = []
    for reading in resolution.get("values") or ():
        kind = str(reading.get("type", ""))
        modifier = reading.get("Mod")
        found: dict[str, Any]
        if kind in _SUB_KINDS:
            found = {
                "resolutionKind": "DateTimeResolution",
                "timex": str(reading.get("timex", "")),
                "dateTimeSubKind": _SUB_KINDS[kind],
                "value": str(reading.get("value", "")),
            }
        elif kind in _SPANS:
            found = {"resolutionKind": "TemporalSpanResolution"}
            if reading.get("start") is not None:
                found["begin"] = str(reading["start"])
            if reading.get("end") is not None:
                found["end"] = str(reading["end"])
            timex = str(reading.get("timex", ""))
            parts = timex.strip("()").split(",")
            if timex.startswith("(") and len(parts) == 3:
                found["duration"] = parts[2]
            if timex:
                found["timex"] = timex
        else:
            continue
        if modifier:
            found["modifier"] = _pascal(str(modifier))
        resolutions.append(found)
    subtype = type_name.replace("datetimeV2", "datetime")
    return resolutions, [{"extraInformationKind": "EntitySubtype", "value": subtype}]


def _boolean(resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    value = resolution.get("value")
    if not isinstance(value, bool):
        return [], []
    return [{"resolutionKind": "BooleanResolution", "value": value}], []


def _nothing(_resolution: dict[str, Any], _text: str, _type: str) -> _Resolved:
    return [], []


_CONVERT: dict[str, Callable[[dict[str, Any], str, str], _Resolved]] = {
    "Quantity.Number": _numbers,
    "Quantity.Ordinal": _ordinal,
    "Quantity.Percentage": _percentage,
    "Quantity.Currency": _currency,
    "Quantity.Age": _age,
    "Quantity.Dimension": _dimension,
    "Quantity.Temperature": _temperature,
    "DateTime": _datetime,
    "Email": _nothing,
    "URL": _nothing,
    "Phone Number": _nothing,
    "Choice.Boolean": _boolean,
}


def unsupported(categories: Iterable[str]) -> list[str]:
    """The categories of ``categories`` that Lexicraft does not find, in order."""
    return [category for category in categories if category not in SUPPORTED_PREBUILTS]
