"""Entity components of CLU projects: lists, regexes, prebuilts, and their composition."""

from __future__ import annotations

import importlib
import itertools
import random
import time
from typing import Any

import pytest

from lexicraft.domain.conversations import (
    CompositionSetting,
    ConversationEntity,
    EntityComponent,
    ListItem,
    RegexExpression,
    Synonyms,
)
from lexicraft.ml.base import PredictedSpan
from lexicraft.ml.components import (
    SUPPORTED_PREBUILTS,
    EntityMatch,
    EntityResolver,
    entity_problems,
    prebuilt_catalog,
    prebuilt_warnings,
)
from lexicraft.ml.components.prebuilts import culture_for
from lexicraft.ml.components.prebuilts import model as prebuilt_model
from lexicraft.settings import Settings

TIMEOUT = 0.05
EMOJI = "\U0001f600"  # one code point, two UTF-16 units


def listed(category: str, *items: tuple[str | None, tuple[Synonyms, ...]], **kw: Any) -> Any:
    return ConversationEntity(
        category, list_items=tuple(ListItem(key, syn) for key, syn in items), **kw
    )


def words(*values: str, language: str | None = None) -> tuple[Synonyms, ...]:
    return (Synonyms(language, values),)


def spans(matches: list[EntityMatch], text: str) -> list[tuple[str, str]]:
    return [(m.category, text[m.start : m.end]) for m in matches]


# ---------------------------------------------------------------- lists


def test_list_synonyms_match_casefolded_on_word_boundaries_with_their_key() -> None:
    city = listed("City", ("nyc", words("New York", "Big Apple")), ("de", words("Straße")))
    resolver = EntityResolver([city], "en", regex_timeout_s=TIMEOUT)
    text = "Yorkshire is not NEW  york, nor the big apples; STRASSE is"
    found = resolver.find(text, [])
    assert spans(found, text) == [("City", "NEW  york"), ("City", "STRASSE")]
    assert found[0].confidence == 1.0
    assert found[0].extra_information == ({"extraInformationKind": "ListKey", "key": "nyc"},)
    assert found[1].extra_information == ({"extraInformationKind": "ListKey", "key": "de"},)


def test_list_longest_synonym_wins_even_when_it_starts_later() -> None:
    entity = listed("Place", ("a", words("new york")), ("b", words("york city hall")))
    text = "meet at new york city hall"
    found = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT).find(text, [])
    assert spans(found, text) == [("Place", "york city hall")]
    assert found[0].extra_information[0]["key"] == "b"


def test_list_key_defaults_to_the_first_value_of_the_matched_synonyms() -> None:
    entity = listed("Size", (None, words("large", "big", "huge")))
    found = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT).find("a HUGE one", [])
    assert found[0].extra_information == ({"extraInformationKind": "ListKey", "key": "large"},)


def test_list_language_specific_synonyms_only_for_their_language() -> None:
    entity = ConversationEntity(
        "Drink",
        list_items=(
            ListItem(
                "coffee",
                (
                    Synonyms("en", ("coffee",)),
                    Synonyms("fr", ("café",)),
                    Synonyms(None, ("espresso",)),
                ),
            ),
        ),
    )
    resolver = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT)
    text = "café coffee espresso"
    assert spans(resolver.find(text, []), text) == [("Drink", "coffee"), ("Drink", "espresso")]
    assert spans(resolver.find(text, [], "fr-FR"), text) == [
        ("Drink", "café"),
        ("Drink", "espresso"),
    ]


def test_list_matches_cjk_without_spaces_and_keeps_code_point_offsets() -> None:
    entity = listed("City", ("tokyo", words("東京")), ("emoji", words(EMOJI)))
    text = f"{EMOJI} 私は東京に行きます {EMOJI}"
    found = EntityResolver([entity], "ja", regex_timeout_s=TIMEOUT).find(text, [])
    assert [(m.start, m.end) for m in found] == [(0, 1), (4, 6), (12, 13)]
    assert spans(found, text) == [("City", EMOJI), ("City", "東京"), ("City", EMOJI)]


def test_a_list_of_20000_synonyms_finds_the_longest_listed_phrase_among_them() -> None:
    # How fast a large list matches is the bench's business; here: the right item among many.
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(300)]
    items = (
        *tuple(
            ListItem(
                f"k{i}",
                (
                    Synonyms(
                        None,
                        tuple(" ".join(rng.sample(vocab, rng.randint(1, 4))) for _ in range(4)),
                    ),
                ),
            )
            for i in range(5000)
        ),
        ListItem("short", (Synonyms(None, ("alpha",)),)),
        ListItem("long", (Synonyms(None, ("alpha beta gamma",)),)),
    )
    resolver = EntityResolver(
        [ConversationEntity("Thing", list_items=items)], "en", regex_timeout_s=TIMEOUT
    )
    text = "zz Alpha Beta Gamma zz alpha zz"
    found = resolver.find(text, [])
    assert [(text[m.start : m.end], m.extra_information[0]["key"]) for m in found] == [
        ("Alpha Beta Gamma", "long"),
        ("alpha", "short"),
    ]


# ---------------------------------------------------------------- regexes


def test_regex_matches_carry_their_key_and_pattern_and_respect_language() -> None:
    entity = ConversationEntity(
        "Flight",
        regexes=(
            RegexExpression("code", None, r"[A-Z]{2}\d{3,4}"),
            RegexExpression(None, "de", r"Flug \d+"),
        ),
    )
    resolver = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT)
    text = f"{EMOJI} AB1234 or Flug 77"
    found = resolver.find(text, [])
    assert [(m.start, m.end) for m in found] == [(2, 8)]
    assert found[0].extra_information == (
        {"extraInformationKind": "RegexKey", "key": "code", "regexPattern": r"[A-Z]{2}\d{3,4}"},
    )
    german = resolver.find(text, [], "de")
    assert spans(german, text) == [("Flight", "AB1234"), ("Flight", "Flug 77")]
    assert german[1].extra_information == (
        {"extraInformationKind": "RegexKey", "regexPattern": r"Flug \d+"},
    )


def test_overlapping_expressions_of_one_entity_keep_the_longest() -> None:
    entity = ConversationEntity(
        "Id",
        regexes=(
            RegexExpression("short", None, r"\d{3}"),
            RegexExpression("long", None, r"\d+-\d+"),
        ),
    )
    text = "ticket 123-4567"
    found = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT).find(text, [])
    assert spans(found, text) == [("Id", "123-4567")]
    assert found[0].extra_information[0]["key"] == "long"


def test_a_backtracking_regex_is_cut_off_at_the_timeout_and_finds_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    entity = ConversationEntity(
        "Bad",
        regexes=(RegexExpression("r", None, r"(a|aa)+$"), RegexExpression("ok", None, "b")),
    )
    resolver = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT)
    assert spans(resolver.find("aaaa", []), "aaaa") == [("Bad", "aaaa")]  # it works when fast
    for text in ("a" * 40 + "!b", "a" * 40 + "b"):
        began = time.perf_counter()
        found = resolver.find(text, [])
        elapsed = time.perf_counter() - began
        assert elapsed < TIMEOUT + 0.5
        # The whole component finds nothing in that text, not even the harmless "b".
        assert found == []
    assert "timed out" in caplog.text


def test_nested_quantifier_named_in_the_brief_returns_within_the_timeout() -> None:
    entity = ConversationEntity("Bad", regexes=(RegexExpression(None, None, r"(a+)+$"),))
    resolver = EntityResolver([entity], "en", regex_timeout_s=TIMEOUT)
    began = time.perf_counter()
    assert resolver.find("a" * 40 + "b", []) == []
    assert time.perf_counter() - began < TIMEOUT + 0.5


# ---------------------------------------------------------------- prebuilts


@pytest.fixture(scope="module")
def prebuilt() -> EntityResolver:
    entities = [
        ConversationEntity(category.replace(" ", ""), prebuilts=(category,))
        for category in sorted(SUPPORTED_PREBUILTS)
    ]
    return EntityResolver(entities, "en-us", regex_timeout_s=TIMEOUT)


def only(resolver: EntityResolver, category: str, text: str) -> list[EntityMatch]:
    return [m for m in resolver.find(text, []) if m.category == category]


def test_numbers_ordinals_and_percentages(prebuilt: EntityResolver) -> None:
    text = f"{EMOJI}{EMOJI} twenty one, 1.5 and 3/4 of 1,200"
    numbers = only(prebuilt, "Quantity.Number", text)
    assert [(text[m.start : m.end], m.resolutions[0]) for m in numbers] == [
        (
            "twenty one",
            {"resolutionKind": "NumberResolution", "numberKind": "Integer", "value": 21},
        ),
        ("1.5", {"resolutionKind": "NumberResolution", "numberKind": "Decimal", "value": 1.5}),
        ("3/4", {"resolutionKind": "NumberResolution", "numberKind": "Fraction", "value": 0.75}),
        ("1,200", {"resolutionKind": "NumberResolution", "numberKind": "Integer", "value": 1200}),
    ]
    assert numbers[0].start == 3  # two astral emoji and a space: code points
    assert all(m.confidence == 1.0 for m in numbers)
    ordinal = only(prebuilt, "Quantity.Ordinal", "the 2nd one")
    assert ordinal[0].resolutions == (
        {"resolutionKind": "OrdinalResolution", "offset": "2", "relativeTo": "Start", "value": "2"},
    )
    percent = only(prebuilt, "Quantity.Percentage", "about 25% off")
    assert (percent[0].start, percent[0].end) == (6, 9)
    assert percent[0].resolutions == (
        {"resolutionKind": "NumberResolution", "numberKind": "Percent", "value": 25},
    )


def test_units(prebuilt: EntityResolver) -> None:
    text = f"{EMOJI} $20.50 or 5 euros, I am 30 years old, 5 km and 3 square meters at 20 degrees celsius"
    currency = only(prebuilt, "Quantity.Currency", text)
    assert [text[m.start : m.end] for m in currency] == ["$20.50", "5 euros"]
    assert currency[0].resolutions == (
        {"resolutionKind": "CurrencyResolution", "value": 20.5, "unit": "Dollar"},
    )
    assert currency[1].resolutions[0]["ISO4217"] == "EUR"
    age = only(prebuilt, "Quantity.Age", text)
    assert age[0].resolutions == ({"resolutionKind": "AgeResolution", "value": 30, "unit": "Year"},)
    dimension = only(prebuilt, "Quantity.Dimension", text)
    assert [m.resolutions[0] for m in dimension] == [
        {"resolutionKind": "LengthResolution", "value": 5, "unit": "Kilometer"},
        {"resolutionKind": "AreaResolution", "value": 3, "unit": "SquareMeter"},
    ]
    temperature = only(prebuilt, "Quantity.Temperature", text)
    assert text[temperature[0].start : temperature[0].end] == "20 degrees celsius"
    assert temperature[0].resolutions == (
        {"resolutionKind": "TemperatureResolution", "value": 20, "unit": "Celsius"},
    )


def test_currency_reuses_its_unit_tables_between_calls(
    prebuilt: EntityResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "it costs 5 euros and 20 yen"
    currency = prebuilt_model("Quantity.Currency", "en-us")
    currency.parse(text)
    # The class itself (the extractors module's name now points at the reusing factory).
    unit_extractor: Any = importlib.import_module("recognizers_number_with_unit")
    extractor_class = unit_extractor.NumberWithUnitExtractor
    # As shipped, the library builds a unit extractor (tokenising 5,000 currency names) on
    # every call; reused, a second call builds none.
    built: list[object] = []
    real_init = extractor_class.__init__

    def counting_init(self: object, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(extractor_class, "__init__", counting_init)
    currency.parse(text)
    assert built == []
    found = only(prebuilt, "Quantity.Currency", text)
    assert [m.resolutions[0]["ISO4217"] for m in found] == ["EUR", "JPY"]


def test_datetimes_have_azure_resolutions_and_subtypes(prebuilt: EntityResolver) -> None:
    text = f"{EMOJI} on the 2nd of May, from 3pm to 5pm, for 3 hours, before tomorrow"
    found = only(prebuilt, "DateTime", text)
    assert [text[m.start : m.end] for m in found] == [
        "the 2nd of May",
        "from 3pm to 5pm",
        "3 hours",
        "before tomorrow",
    ]
    date, times, duration, before = found
    assert date.extra_information == (
        {"extraInformationKind": "EntitySubtype", "value": "datetime.date"},
    )
    # Without a year, two readings: this year's and next year's (values depend on today).
    assert [r["timex"] for r in date.resolutions] == ["XXXX-05-02", "XXXX-05-02"]
    assert {r["dateTimeSubKind"] for r in date.resolutions} == {"Date"}
    assert times.resolutions == (
        {
            "resolutionKind": "TemporalSpanResolution",
            "begin": "15:00:00",
            "end": "17:00:00",
            "duration": "PT2H",
            "timex": "(T15,T17,PT2H)",
        },
    )
    assert duration.resolutions == (
        {
            "resolutionKind": "DateTimeResolution",
            "timex": "PT3H",
            "dateTimeSubKind": "Duration",
            "value": "10800",
        },
    )
    assert before.resolutions[0]["modifier"] == "Before"
    assert before.extra_information[0]["value"] == "datetime.daterange"


def test_email_url_phone_and_boolean(prebuilt: EntityResolver) -> None:
    text = f"{EMOJI} yes, mail bob@example.com, see https://example.com or call 555-123-4567"
    found = {m.category: m for m in prebuilt.find(text, []) if not m.category.startswith("Q")}
    assert text[found["Email"].start : found["Email"].end] == "bob@example.com"
    assert text[found["URL"].start : found["URL"].end] == "https://example.com"
    assert text[found["PhoneNumber"].start : found["PhoneNumber"].end] == "555-123-4567"
    assert found["Email"].resolutions == ()
    boolean = found["Choice.Boolean"]
    assert text[boolean.start : boolean.end] == "yes"
    assert boolean.resolutions == ({"resolutionKind": "BooleanResolution", "value": True},)


def test_prebuilt_offsets_survive_characters_whose_lowercase_is_longer(
    prebuilt: EntityResolver,
) -> None:
    # "İ".lower() is two code points; the library lowercases before it reports offsets.
    text = f"İİİ{EMOJI} costs 5 euros tomorrow"
    found = prebuilt.find(text, [])
    assert ("Quantity.Currency", "5 euros") in spans(found, text)
    assert ("DateTime", "tomorrow") in spans(found, text)


def test_prebuilts_follow_the_text_language() -> None:
    entity = ConversationEntity("N", prebuilts=("Quantity.Number", "Email"))
    resolver = EntityResolver([entity], "es", regex_timeout_s=TIMEOUT)
    text = "tres y bob@example.com"
    found = resolver.find(text, [])
    assert spans(found, text) == [("N", "tres"), ("N", "bob@example.com")]
    assert found[0].resolutions[0]["value"] == 3
    # German: the library has no number model; email reads the same in every language.
    assert spans(resolver.find("3 und bob@example.com", [], "de"), "3 und bob@example.com") == [
        ("N", "bob@example.com")
    ]


def test_the_culture_table_agrees_with_the_library() -> None:
    recognizers = importlib.import_module("recognizers_sequence")
    sequence = recognizers.SequenceRecognizer("fr-fr", lazy_initialization=True)
    with pytest.raises(Exception):  # noqa: B017 - the library raises a bare ValueError/KeyError
        sequence.get_email_model("fr-fr", fallback_to_default_culture=False)
    assert culture_for("Email", "fr") == "en-us"
    dates = importlib.import_module("recognizers_date_time")
    assert dates.DateTimeRecognizer("es-es", lazy_initialization=True).get_datetime_model(
        "es-es", fallback_to_default_culture=False
    )
    assert culture_for("DateTime", "es-MX") == "es-es"
    assert culture_for("DateTime", "ja") is None


# ---------------------------------------------------------------- composition


def composed(setting: CompositionSetting, *required: EntityComponent) -> EntityResolver:
    entity = ConversationEntity(
        "Airport",
        composition=setting,
        list_items=(ListItem("bos", words("Boston")),),
        regexes=(RegexExpression("code", None, r"\b[A-Z]{3}\b"),),
        required_components=required,
    )
    return EntityResolver([entity], "en", regex_timeout_s=TIMEOUT)


TEXT = "fly to Boston Logan or JFK today"
#       7     13    19  23
LEARNED = [PredictedSpan(7, 19, "Airport", 0.8)]


def test_combine_components_merges_overlaps_into_one_span() -> None:
    found = composed(CompositionSetting.COMBINE_COMPONENTS).find(
        TEXT, [PredictedSpan(10, 19, "Airport", 0.6)]
    )
    assert spans(found, TEXT) == [("Airport", "Boston Logan"), ("Airport", "JFK")]
    assert found[0].confidence == 1.0  # the max of the learned 0.6 and the list's 1.0
    assert found[0].extra_information == ({"extraInformationKind": "ListKey", "key": "bos"},)


def test_separate_components_keeps_each_components_matches() -> None:
    found = composed(CompositionSetting.SEPARATE_COMPONENTS).find(TEXT, LEARNED)
    assert spans(found, TEXT) == [
        ("Airport", "Boston"),
        ("Airport", "Boston Logan"),
        ("Airport", "JFK"),
    ]
    assert [m.confidence for m in found] == [1.0, 0.8, 1.0]


def test_return_longest_overlap_keeps_the_longest() -> None:
    found = composed(CompositionSetting.RETURN_LONGEST_OVERLAP).find(TEXT, LEARNED)
    assert spans(found, TEXT) == [("Airport", "Boston Logan"), ("Airport", "JFK")]
    assert found[0].confidence == 0.8
    assert found[0].extra_information == ()


def test_require_exact_overlap_drops_disagreeing_components() -> None:
    resolver = composed(CompositionSetting.REQUIRE_EXACT_OVERLAP)
    assert spans(resolver.find(TEXT, LEARNED), TEXT) == [("Airport", "JFK")]
    agreeing = resolver.find(TEXT, [PredictedSpan(7, 13, "Airport", 0.4)])
    assert spans(agreeing, TEXT) == [("Airport", "Boston"), ("Airport", "JFK")]
    assert agreeing[0].confidence == 1.0
    assert agreeing[0].extra_information == ({"extraInformationKind": "ListKey", "key": "bos"},)


@pytest.mark.parametrize("setting", list(CompositionSetting))
def test_required_components_must_all_overlap_the_span(setting: CompositionSetting) -> None:
    resolver = composed(setting, EntityComponent.LEARNED, EntityComponent.LIST)
    # JFK has no learned or list match; Boston has both (exactly, for requireExactOverlap).
    found = resolver.find(TEXT, [PredictedSpan(7, 13, "Airport", 0.9)])
    assert spans(found, TEXT) == [("Airport", "Boston")] * (
        2 if setting is CompositionSetting.SEPARATE_COMPONENTS else 1
    )
    assert resolver.find(TEXT, []) == []  # no learned span: nothing has all it needs
    only_regex = composed(setting, EntityComponent.REGEX)
    assert spans(only_regex.find(TEXT, []), TEXT) == [("Airport", "JFK")]


def test_learned_spans_alone_and_of_unknown_categories_pass_through() -> None:
    resolver = EntityResolver(
        [ConversationEntity("Name"), listed("Other", ("x", words("nothing here")))],
        "en",
        regex_timeout_s=TIMEOUT,
    )
    learned = [
        PredictedSpan(0, 5, "Name", 0.7),
        PredictedSpan(2, 4, "Name", 0.9),  # overlaps a longer span of its entity: dropped
        PredictedSpan(6, 9, "Ghost", 0.5),
    ]
    assert resolver.find("Alice Bob", learned) == [
        EntityMatch(0, 5, "Name", 0.7),
        EntityMatch(6, 9, "Ghost", 0.5),
    ]


def test_no_two_matches_of_one_entity_overlap_across_settings() -> None:
    for setting in CompositionSetting:
        if setting is CompositionSetting.SEPARATE_COMPONENTS:
            continue
        found = composed(setting).find(TEXT * 3, [*LEARNED, PredictedSpan(30, 60, "Airport", 0.5)])
        for a, b in itertools.pairwise(found):
            assert a.end <= b.start, (setting, a, b)


# ---------------------------------------------------------------- problems and catalog


def test_entity_problems_name_the_wire_path() -> None:
    entities = [
        ConversationEntity("Fine", regexes=(RegexExpression("ok", None, r"\d{3}-\d{4}"),)),
        ConversationEntity(
            "Broken",
            regexes=(
                RegexExpression(None, None, r"[a-"),
                RegexExpression(None, None, r"(a+)+$"),
                RegexExpression(None, None, r"(?:a|aa)*b"),
                RegexExpression(None, None, r"(?>a+)+b"),  # atomic: cannot backtrack
                RegexExpression(None, None, r"(\p{L}+\s?)*"),
                RegexExpression(None, None, "x" * 30),
            ),
            required_components=(EntityComponent.LEARNED, EntityComponent.LIST),
        ),
    ]
    problems = entity_problems(entities, max_pattern_chars=20)
    paths = [path for path, _ in problems]
    base = "assets.entities[1]"
    assert paths == [
        f"{base}.regex.expressions[0].regexPattern",
        f"{base}.regex.expressions[1].regexPattern",
        f"{base}.regex.expressions[2].regexPattern",
        f"{base}.regex.expressions[4].regexPattern",
        f"{base}.regex.expressions[5].regexPattern",
        f"{base}.requiredComponents[1]",
    ]
    messages = dict(problems)
    assert messages[f"{base}.regex.expressions[0].regexPattern"].startswith("does not compile")
    assert "catastrophically" in messages[f"{base}.regex.expressions[1].regexPattern"]
    assert "limit is 20" in messages[f"{base}.regex.expressions[5].regexPattern"]
    assert "list" in messages[f"{base}.requiredComponents[1]"]
    assert entity_problems(entities[:1]) == []


def test_unsupported_prebuilts_are_warnings_not_problems() -> None:
    entity = ConversationEntity("P", prebuilts=("Quantity.Number", "Person.Name"))
    assert entity_problems([entity]) == []
    assert [path for path, _ in prebuilt_warnings([entity])] == [
        "assets.entities[0].prebuilts[1].category"
    ]


def test_prebuilt_catalog() -> None:
    every = prebuilt_catalog()
    assert {c.category for c in every} == SUPPORTED_PREBUILTS
    assert {"Quantity.Number", "DateTime", "Email", "Phone Number", "URL"} <= SUPPORTED_PREBUILTS
    assert all(c.description and c.examples for c in every)
    assert "Quantity.Number" in {c.category for c in every if "," in c.examples}
    japanese = {c.category for c in prebuilt_catalog("ja")}
    assert "Quantity.Number" in japanese and "Email" in japanese
    assert "DateTime" not in japanese  # the library has no Japanese date model
    assert {c.category for c in prebuilt_catalog("en-US")} == SUPPORTED_PREBUILTS


def test_settings_declare_the_regex_limits() -> None:
    settings = Settings()
    assert settings.clu_regex_timeout_s == 0.05
    assert settings.clu_max_regex_pattern_chars == 1000
