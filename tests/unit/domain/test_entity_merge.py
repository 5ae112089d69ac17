"""How two conversation entities' definitions become one when one is merged into the other
(``domain.conversations.merged_entity``), and the label renaming rules shared by every rename."""

from __future__ import annotations

import pytest

from lexicraft.domain.conversations import (
    CompositionSetting,
    ConversationEntity,
    EntityComponent,
    ListItem,
    RegexExpression,
    Synonyms,
    merged_entity,
)
from lexicraft.domain.projects import renamed_classes
from lexicraft.domain.spans import Span, first_overlap, renamed_spans
from lexicraft.errors import Conflict

COMBINE = CompositionSetting.COMBINE_COMPONENTS
SEPARATE = CompositionSetting.SEPARATE_COMPONENTS


def item(key: str | None, *words: str, language: str | None = "en-us") -> ListItem:
    return ListItem(key, (Synonyms(language, words),))


def test_lists_join_by_key_and_components_by_value() -> None:
    kept = ConversationEntity(
        "City",
        list_items=(item("paris", "Paris"), item(None, "Nice")),
        prebuilts=("Geography.Location",),
        regexes=(RegexExpression("zip", None, r"\d{5}"),),
    )
    absorbed = ConversationEntity(
        "Place",
        description="Somewhere",
        list_items=(
            ListItem("paris", (Synonyms("en-us", ("Paris", "Paname")), Synonyms("fr", ("Paris",)))),
            item(None, "Nice"),
            item(None, "Cannes"),
        ),
        prebuilts=("Geography.Location", "Quantity.Number"),
        regexes=(RegexExpression("zip", None, r"\d{5}"), RegexExpression("po", None, r"PO \d+")),
    )
    merged = merged_entity(kept, absorbed, target="newName")
    assert merged.category == "City"
    assert merged.list_items == (
        ListItem("paris", (Synonyms("en-us", ("Paris", "Paname")), Synonyms("fr", ("Paris",)))),
        item(None, "Nice"),
        item(None, "Cannes"),
    )
    assert merged.prebuilts == ("Geography.Location", "Quantity.Number")
    assert [r.key for r in merged.regexes] == ["zip", "po"]
    # kept had no description: absorbed's.
    assert merged.description == "Somewhere"
    assert merged_entity(absorbed, kept, target="t").description == "Somewhere"


def test_composition_of_a_learned_only_entity_gives_way() -> None:
    learned = ConversationEntity("Town", composition=CompositionSetting.RETURN_LONGEST_OVERLAP)
    listed = ConversationEntity("City", composition=SEPARATE, list_items=(item("a", "A"),))
    assert merged_entity(learned, listed, target="t").composition is SEPARATE
    assert merged_entity(listed, learned, target="t").composition is SEPARATE
    # Neither has components: the kept entity's.
    other = ConversationEntity("Region", composition=COMBINE)
    assert merged_entity(learned, other, target="t").composition is learned.composition


def test_settings_that_both_matter_are_refused() -> None:
    listed = ConversationEntity("City", composition=COMBINE, list_items=(item("a", "A"),))
    regex = ConversationEntity(
        "Code", composition=SEPARATE, regexes=(RegexExpression(None, None, "[A-Z]{3}"),)
    )
    with pytest.raises(Conflict) as refused:
        merged_entity(listed, regex, target="newName")
    assert refused.value.target == "newName"
    assert "separateComponents" in refused.value.message
    required = ConversationEntity(
        "Code",
        regexes=(RegexExpression(None, None, "[A-Z]{3}"),),
        required_components=(EntityComponent.REGEX,),
    )
    with pytest.raises(Conflict, match="requiredComponents"):
        merged_entity(listed, required, target="newName")
    # The same requirements in another order are the same requirements.
    both = (EntityComponent.LIST, EntityComponent.REGEX)
    first = ConversationEntity(
        "A", list_items=(item("a", "A"),), regexes=required.regexes, required_components=both
    )
    second = ConversationEntity(
        "B", list_items=(item("b", "B"),), regexes=required.regexes, required_components=both[::-1]
    )
    assert merged_entity(first, second, target="t").required_components == both


def test_renaming_labels_collapses_what_it_duplicates() -> None:
    spans = (Span(0, 5, "City"), Span(0, 5, "Place"), Span(7, 9, "Place"))
    assert renamed_spans(spans, "Place", "City") == (Span(0, 5, "City"), Span(7, 9, "City"))
    assert renamed_spans(spans, "Nope", "City") == spans
    assert renamed_classes(("Cost", "Price", "Screen"), "Cost", "Price") == ("Price", "Screen")
    assert first_overlap((Span(6, 9, "A"), Span(0, 7, "A"))) == (1, 0)
    assert first_overlap((Span(0, 5, "A"), Span(5, 9, "A"))) is None
