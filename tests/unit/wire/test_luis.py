"""A LUIS app export becomes a CLU project file; what is lost is said; bad input names its path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from lexicraft.errors import InvalidParameterValue, InvalidRequestBody, LexicraftError
from lexicraft.wire.luis import SUPPORTED_LUIS_SCHEMA_VERSIONS, convert_luis_app

PIZZA = "🍕🍕 order 2 large pizzas with ham"  # two non-BMP characters before every label
DELIVERY = "deliver to Zürich 8001 from Genève"
CONTACT = "my name is Ada, ada@example.com"
OVERLAP = "I am Mary Ann Smith"


def label(entity: str, start: int, end: int, **more: Any) -> dict[str, Any]:
    return {"entity": entity, "startPos": start, "endPos": end, **more}


#: A LUIS 7.0.0 export as the LUIS portal wrote them, by hand: every kind of entity, a nested
#: machine-learned entity with features, roles, a pattern, a phrase list, a composite.
APP: dict[str, Any] = {
    "luis_schema_version": "7.0.0",
    "versionId": "0.1",
    "name": "PizzaBot",
    "desc": "Orders pizza",
    "culture": "en-US",
    "tokenizerVersion": "1.0.0",
    "intents": [
        {"name": "None", "features": []},
        {"name": "OrderPizza", "features": [{"featureName": "Toppings"}, {"modelName": "Order"}]},
        {"name": "Contact", "features": []},
    ],
    "entities": [
        {
            "name": "Order",
            "roles": [],
            "features": [{"featureName": "Toppings", "isRequired": False}],
            "children": [
                {
                    "name": "Pizza",
                    "instanceOf": None,
                    "features": [],
                    "children": [
                        {
                            "name": "Size",
                            "instanceOf": None,
                            "children": [],
                            "features": [{"modelName": "SizeList", "isRequired": True}],
                        },
                        {
                            "name": "Topping",
                            "instanceOf": None,
                            "children": [],
                            "features": [{"featureName": "Toppings", "isRequired": False}],
                        },
                    ],
                },
                {
                    "name": "Quantity",
                    "instanceOf": None,
                    "children": [],
                    "features": [{"modelName": "number", "isRequired": False}],
                },
            ],
        },
        {
            "name": "CustomerName",
            "roles": [],
            "children": [],
            "features": [{"modelName": "personName"}],
        },
    ],
    "hierarchicals": [],
    "composites": [{"name": "Address", "children": ["City", "ZipCode"], "roles": []}],
    "closedLists": [
        {
            "name": "SizeList",
            "subLists": [
                {"canonicalForm": "small", "list": ["little", "sm"]},
                {"canonicalForm": "large", "list": ["big", "large"]},
            ],
            "roles": [],
        },
        {
            "name": "City",
            "subLists": [
                {"canonicalForm": "Zürich", "list": ["Zurich"]},
                {"canonicalForm": "Genève", "list": ["Geneva", "Genf"]},
            ],
            "roles": ["Origin", "Destination"],
        },
    ],
    "prebuiltEntities": [
        {"name": "number", "roles": []},
        {"name": "datetimeV2", "roles": []},
        {"name": "geographyV2", "roles": []},
        {"name": "personName", "roles": []},
        {"name": "email", "roles": []},
    ],
    "regex_entities": [{"name": "ZipCode", "regexPattern": "\\d{4}", "roles": []}],
    "patternAnyEntities": [{"name": "Note", "roles": [], "explicitList": []}],
    "patterns": [{"pattern": "order {Order} for {datetimeV2}", "intent": "OrderPizza"}],
    "phraselists": [
        {
            "name": "Toppings",
            "mode": True,
            "words": "cheese,ham,olives",
            "activated": True,
            "enabledForAllModels": False,
        }
    ],
    "regex_features": [],
    "settings": [{"name": "NormalizePunctuation", "value": "true"}],
    "utterances": [
        {
            "text": PIZZA,
            "intent": "OrderPizza",
            "entities": [
                label(
                    "Order",
                    11,
                    33,
                    children=[
                        label("Quantity", 11, 11, children=[]),
                        label(
                            "Pizza",
                            13,
                            33,
                            children=[label("Size", 13, 17), label("Topping", 31, 33)],
                        ),
                    ],
                )
            ],
        },
        {
            "text": DELIVERY,
            "intent": "OrderPizza",
            "entities": [
                label("City", 11, 16, role="Destination"),
                label("geographyV2", 11, 16),
                label("Address", 11, 21),
                label("ZipCode", 18, 21),
                label("City", 28, 33, role="Origin"),
            ],
        },
        {
            "text": CONTACT,
            "intent": "Contact",
            "entities": [label("CustomerName", 11, 13), label("email", 16, 30)],
        },
        {
            "text": OVERLAP,
            "intent": "Contact",
            "entities": [label("CustomerName", 10, 18), label("CustomerName", 5, 12)],
        },
        {"text": "hello 👋", "intent": "None", "entities": []},
    ],
}

CITY_LIST = {
    "sublists": [
        {"listKey": "Zürich", "synonyms": [{"language": "en-us", "values": ["Zürich", "Zurich"]}]},
        {
            "listKey": "Genève",
            "synonyms": [{"language": "en-us", "values": ["Genève", "Geneva", "Genf"]}],
        },
    ]
}
SIZE_LIST = {
    "sublists": [
        {
            "listKey": "small",
            "synonyms": [{"language": "en-us", "values": ["small", "little", "sm"]}],
        },
        {"listKey": "large", "synonyms": [{"language": "en-us", "values": ["large", "big"]}]},
    ]
}
COMBINE = "combineComponents"

EXPECTED_PROJECT_FILE = {
    "projectFileVersion": "2023-04-01",
    "stringIndexType": "Utf16CodeUnit",
    "metadata": {
        "projectKind": "Conversation",
        "projectName": "pizza",
        "language": "en-us",
        "multilingual": False,
        "description": "Orders pizza",
        "settings": {"confidenceThreshold": 0.0},
    },
    "assets": {
        "projectKind": "Conversation",
        "intents": [{"category": "None"}, {"category": "OrderPizza"}, {"category": "Contact"}],
        "entities": [
            {
                "category": "Order.Pizza.Size",
                "compositionSetting": COMBINE,
                "list": SIZE_LIST,
                "requiredComponents": ["list"],
            },
            {"category": "Order.Pizza.Topping", "compositionSetting": COMBINE},
            {
                "category": "Order.Quantity",
                "compositionSetting": COMBINE,
                "prebuilts": [{"category": "Quantity.Number"}],
            },
            {
                "category": "CustomerName",
                "compositionSetting": COMBINE,
                "prebuilts": [{"category": "Person.Name"}],
            },
            {"category": "SizeList", "compositionSetting": COMBINE, "list": SIZE_LIST},
            {"category": "City", "compositionSetting": COMBINE, "list": CITY_LIST},
            {"category": "Origin", "compositionSetting": COMBINE, "list": CITY_LIST},
            {"category": "Destination", "compositionSetting": COMBINE, "list": CITY_LIST},
            {
                "category": "ZipCode",
                "compositionSetting": COMBINE,
                "regex": {
                    "expressions": [
                        {"regexKey": "ZipCode", "language": "en-us", "regexPattern": "\\d{4}"}
                    ]
                },
            },
            {
                "category": "number",
                "compositionSetting": COMBINE,
                "prebuilts": [{"category": "Quantity.Number"}],
            },
            {
                "category": "datetimeV2",
                "compositionSetting": COMBINE,
                "prebuilts": [{"category": "DateTime"}],
            },
            {
                "category": "personName",
                "compositionSetting": COMBINE,
                "prebuilts": [{"category": "Person.Name"}],
            },
            {
                "category": "email",
                "compositionSetting": COMBINE,
                "prebuilts": [{"category": "Email"}],
            },
        ],
        "utterances": [
            {
                "text": PIZZA,
                "intent": "OrderPizza",
                "entities": [
                    {"category": "Order.Quantity", "offset": 11, "length": 1},
                    {"category": "Order.Pizza.Size", "offset": 13, "length": 5},
                    {"category": "Order.Pizza.Topping", "offset": 31, "length": 3},
                ],
            },
            {
                "text": DELIVERY,
                "intent": "OrderPizza",
                "entities": [
                    {"category": "Destination", "offset": 11, "length": 6},
                    {"category": "ZipCode", "offset": 18, "length": 4},
                    {"category": "Origin", "offset": 28, "length": 6},
                ],
            },
            {
                "text": CONTACT,
                "intent": "Contact",
                "entities": [
                    {"category": "CustomerName", "offset": 11, "length": 3},
                    {"category": "email", "offset": 16, "length": 15},
                ],
            },
            {
                "text": OVERLAP,
                "intent": "Contact",
                "entities": [{"category": "CustomerName", "offset": 5, "length": 8}],
            },
            {"text": "hello 👋", "intent": "None", "entities": []},
        ],
    },
}


def test_a_luis_app_becomes_a_clu_project_file() -> None:
    original = copy.deepcopy(APP)
    result = convert_luis_app(APP, "pizza")
    assert result.project_file == EXPECTED_PROJECT_FILE
    assert original == APP  # the input is read, never changed


def test_positions_stay_utf16_code_units() -> None:
    # LUIS (.NET) and CLU project files both count UTF-16 code units: the two pizzas before
    # the labels are 4 units but 2 code points, and the offsets must keep the 4.
    entities = convert_luis_app(APP, "pizza").project_file["assets"]["utterances"][0]["entities"]
    units = PIZZA.encode("utf-16-le")
    labelled = [
        units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in entities
    ]
    assert labelled == ["2", "large", "ham"]
    assert PIZZA.index("large") == 11  # code points: what a converter counting them would write


def test_what_was_converted_is_listed() -> None:
    assert convert_luis_app(APP, "pizza").converted == (
        "LUIS app 'PizzaBot' version '0.1' (schema 7.0.0, culture 'en-US') → Conversation "
        "project 'pizza' (language 'en-us')",
        "intents (3) → intents: 'None', 'OrderPizza', 'Contact'",
        "machine-learned child 'Order.Pizza.Size' → entity 'Order.Pizza.Size' (learned "
        "component + list component from closed list 'SizeList'; required: list)",
        "machine-learned child 'Order.Pizza.Topping' → entity 'Order.Pizza.Topping' (learned "
        "component)",
        "machine-learned child 'Order.Quantity' → entity 'Order.Quantity' (learned component "
        "+ prebuilts component from prebuilt 'number')",
        "machine-learned entity 'Order' has children: its leaves → entities "
        "'Order.Pizza.Size', 'Order.Pizza.Topping', 'Order.Quantity' (learned components)",
        "machine-learned entity 'CustomerName' → entity 'CustomerName' (learned component "
        "+ prebuilts component from prebuilt 'personName')",
        "closed list 'SizeList' → list component of entity 'SizeList' (2 items)",
        "closed list 'City' → list component of entity 'City' (2 items)",
        "role 'Origin' of 'City' → entity 'Origin' with the components of 'City'",
        "role 'Destination' of 'City' → entity 'Destination' with the components of 'City'",
        "regex entity 'ZipCode' → regex component of entity 'ZipCode'",
        "prebuilt entity 'number' → prebuilt component 'Quantity.Number' of entity 'number'",
        "prebuilt entity 'datetimeV2' → prebuilt component 'DateTime' of entity 'datetimeV2'",
        "prebuilt entity 'personName' → prebuilt component 'Person.Name' of entity 'personName'",
        "prebuilt entity 'email' → prebuilt component 'Email' of entity 'email'",
        "utterances (5) → utterances with 9 entity labels (inclusive startPos/endPos → "
        "offset/length, UTF-16 code units)",
    )


def test_what_was_dropped_is_listed() -> None:
    assert convert_luis_app(APP, "pizza").dropped == (
        "feature 'Toppings' of intent 'OrderPizza': CLU intents take no features",
        "feature 'Order' of intent 'OrderPizza': CLU intents take no features",
        "feature 'Toppings' of entity 'Order.Pizza.Topping': phrase lists are not transferred",
        "feature 'Toppings' of machine-learned entity 'Order': it has children, so it is no "
        "entity in CLU (only its leaves are)",
        "prebuilt entity 'geographyV2': CLU has no equivalent prebuilt component",
        "composite entity 'Address' ('City', 'ZipCode'): CLU has no composite entities; its "
        "children keep their own entities and labels",
        "Pattern.any entity 'Note': not available in CLU",
        "pattern 'order {Order} for {datetimeV2}' (intent 'OrderPizza'): CLU has no patterns",
        "phrase list 'Toppings': CLU has no phrase lists",
        "settings (NormalizePunctuation=true): LUIS settings are not transferred",
        "utterances[3]: label of 'CustomerName' at UTF-16 [10, 19) overlaps its label at "
        "[5, 13); the first is kept",
        "1 utterance label of machine-learned entity 'Order.Pizza' (it has children: only "
        "its leaves are entities in CLU)",
        "1 utterance label of machine-learned entity 'Order' (it has children: only its "
        "leaves are entities in CLU)",
        "1 utterance label of prebuilt entity 'geographyV2' (dropped)",
        "1 utterance label of composite entity 'Address' (dropped)",
    )


def test_a_missing_none_intent_is_added_and_6_0_0_is_read() -> None:
    app = {
        "luis_schema_version": "6.0.0",
        "culture": "de-DE",
        "intents": [{"name": "Greet"}],
        "utterances": [{"text": "hallo", "intent": "Greet"}],
    }
    result = convert_luis_app(app, "greet")
    assets = result.project_file["assets"]
    assert assets["intents"] == [{"category": "Greet"}, {"category": "None"}]
    assert assets["entities"] == []
    assert assets["utterances"] == [{"text": "hallo", "intent": "Greet", "entities": []}]
    assert result.project_file["metadata"]["language"] == "de-de"
    assert "description" not in result.project_file["metadata"]
    assert "intent 'None' added: every CLU project has it" in result.converted
    assert result.dropped == ()
    assert SUPPORTED_LUIS_SCHEMA_VERSIONS == ("6.0.0", "7.0.0")


def test_an_instance_of_child_takes_that_component_as_required() -> None:
    app = copy.deepcopy(APP)
    app["entities"][0]["children"][1]["instanceOf"] = "ZipCode"
    entities = convert_luis_app(app, "pizza").project_file["assets"]["entities"]
    assert entities[2] == {
        "category": "Order.Quantity",
        "compositionSetting": COMBINE,
        "prebuilts": [{"category": "Quantity.Number"}],
        "regex": {
            "expressions": [{"regexKey": "ZipCode", "language": "en-us", "regexPattern": "\\d{4}"}]
        },
        "requiredComponents": ["regex"],
    }


def changed(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    app = copy.deepcopy(APP)
    change(app)
    return app


def utterance(index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda app: app["utterances"][index]


def set_in(getter: Callable[[dict[str, Any]], Any], key: str | int, value: Any) -> Any:
    def change(app: dict[str, Any]) -> None:
        getter(app)[key] = value

    return change


def first_label(app: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = app["utterances"][0]["entities"][0]
    return result


BAD: list[tuple[str, object, type[LexicraftError], str | None]] = [
    ("not an object", ["not", "an", "app"], InvalidRequestBody, None),
    ("no schema version", changed(lambda a: a.pop("luis_schema_version")), InvalidRequestBody,
     "luis_schema_version"),
    ("a number for a version", changed(set_in(lambda a: a, "luis_schema_version", 7)),
     InvalidRequestBody, "luis_schema_version"),
    ("an older schema", changed(set_in(lambda a: a, "luis_schema_version", "3.2.0")),
     InvalidParameterValue, "luis_schema_version"),
    ("no culture", changed(lambda a: a.pop("culture")), InvalidRequestBody, "culture"),
    ("intents not a list", changed(set_in(lambda a: a, "intents", {"name": "x"})),
     InvalidRequestBody, "intents"),
    ("a lone surrogate", changed(set_in(utterance(4), "text", "hello \ud83d")),
     InvalidParameterValue, "utterances[4].text"),
    ("an empty utterance", changed(set_in(utterance(4), "text", "  ")), InvalidParameterValue,
     "utterances[4].text"),
    ("an unknown intent", changed(set_in(utterance(2), "intent", "Order")),
     InvalidParameterValue, "utterances[2].intent"),
    ("an unknown entity", changed(lambda a: a["utterances"][1]["entities"][3].update(
        entity="Zip")), InvalidParameterValue, "utterances[1].entities[3].entity"),
    ("an unknown child", changed(lambda a: first_label(a)["children"][1]["children"][0].update(
        entity="Crust")), InvalidParameterValue,
     "utterances[0].entities[0].children[1].children[0].entity"),
    ("children under a leaf", changed(lambda a: first_label(a)["children"][0].update(
        children=[label("Size", 11, 11)])), InvalidParameterValue,
     "utterances[0].entities[0].children[0].children[0].entity"),
    ("an unknown role", changed(lambda a: a["utterances"][1]["entities"][0].update(
        role="Stopover")), InvalidParameterValue, "utterances[1].entities[0].role"),
    ("a negative startPos", changed(set_in(first_label, "startPos", -1)),
     InvalidParameterValue, "utterances[0].entities[0].startPos"),
    ("endPos past the text", changed(set_in(first_label, "endPos", 34)),
     InvalidParameterValue, "utterances[0].entities[0].endPos"),
    ("endPos before startPos", changed(lambda a: a["utterances"][2]["entities"][1].update(
        startPos=20, endPos=19)), InvalidParameterValue, "utterances[2].entities[1].endPos"),
    ("a child label past the text", changed(lambda a: first_label(a)["children"][0].update(
        endPos=40)), InvalidParameterValue, "utterances[0].entities[0].children[0].endPos"),
    ("startPos inside a surrogate pair", changed(set_in(first_label, "startPos", 1)),
     InvalidParameterValue, "utterances[0].entities[0].startPos"),
    ("endPos inside a surrogate pair", changed(lambda a: a["utterances"][4].update(
        entities=[label("CustomerName", 6, 6)])), InvalidParameterValue,
     "utterances[4].entities[0].endPos"),
    ("a string position", changed(set_in(first_label, "endPos", "33")), InvalidRequestBody,
     "utterances[0].entities[0].endPos"),
    ("a boolean position", changed(set_in(first_label, "startPos", True)), InvalidRequestBody,
     "utterances[0].entities[0].startPos"),
    ("a duplicate intent", changed(lambda a: a["intents"].append({"name": "Contact"})),
     InvalidParameterValue, "intents[3].name"),
    ("a name used by two kinds", changed(lambda a: a["regex_entities"][0].update(
        name="SizeList")), InvalidParameterValue, "regex_entities[0].name"),
    ("twin children", changed(lambda a: a["entities"][0]["children"][1].update(name="Pizza")),
     InvalidParameterValue, "entities[0].children[1].name"),
    ("a flattened name taken", changed(lambda a: a["entities"].append(
        {"name": "Order.Quantity", "children": []})), InvalidParameterValue, "entities[2].name"),
    ("a role named like an entity", changed(lambda a: a["closedLists"][1].update(
        roles=["Origin", "ZipCode"])), InvalidParameterValue, "regex_entities[0].name"),
    ("a feature of no entity", changed(lambda a: a["entities"][1]["features"][0].update(
        modelName="nickname")), InvalidParameterValue, "entities[1].features[0].modelName"),
    ("an instanceOf of no entity", changed(lambda a: a["entities"][1].update(
        instanceOf="nickname")), InvalidParameterValue, "entities[1].instanceOf"),
    ("an empty entity name", changed(lambda a: a["prebuiltEntities"][0].update(name="")),
     InvalidParameterValue, "prebuiltEntities[0].name"),
    ("a closed list without canonical form", changed(
        lambda a: a["closedLists"][0]["subLists"][1].pop("canonicalForm")),
     InvalidRequestBody, "closedLists[0].subLists[1].canonicalForm"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("app", "error", "target"), [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
def test_bad_input_names_its_path(
    app: Any, error: type[LexicraftError], target: str | None
) -> None:
    with pytest.raises(error) as raised:
        convert_luis_app(app, "pizza")
    assert type(raised.value) is error
    assert raised.value.target == target
    if target is not None:
        assert raised.value.message.startswith(target)
