"""A LUIS app JSON export as an Azure CLU project file (spec §2.4): ``:import?format=Luis``.

LUIS was retired on 31 March 2026; its apps live on as JSON exports. This module turns one
into the project file a ``format=Conversation`` import takes, following Microsoft's own
LUIS → CLU migration ("Migrate from LUIS to CLU", learn.microsoft.com, the comparison table):

- machine-learned entities without children become entities; of a structured one only the
  leaves become entities, named after their path (``Order.Size``, ``Order.Pizza.Size``);
- closed lists, regex and prebuilt entities become entities with that component;
- a closed list, regex or prebuilt entity used as a feature of an entity becomes a component
  of that entity; features of intents are not transferred;
- roles become entities of their own, named after the role, with their entity's components;
- Pattern.any entities, patterns, phrase lists and settings are not transferred.

What could not be kept is listed in :attr:`LuisConversion.dropped`, never silently lost.
Pure code: no I/O. Label positions stay UTF-16 code units (LUIS is .NET, and so are CLU
project files); only LUIS's inclusive ``endPos`` becomes a ``length``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, StrictBool, StrictInt, StrictStr

from lexicraft.domain.conversations import NONE_INTENT, CompositionSetting, EntityComponent
from lexicraft.errors import InvalidParameterValue, InvalidRequestBody
from lexicraft.wire.base import WireModel, parse, refuse_unstorable_strings

#: The LUIS schema versions whose entity model (machine-learned entities with nested children,
#: v6 and v7) this converter reads. Microsoft's migration takes 7.0.0 exports; 6.0.0 differs
#: from it only in how deep children may nest, which the conversion does not depend on. Older
#: exports (simple, hierarchical entities) were to be upgraded by LUIS itself, now retired.
SUPPORTED_LUIS_SCHEMA_VERSIONS: tuple[str, ...] = ("6.0.0", "7.0.0")

#: The project file version written (spec §2.4).
PROJECT_FILE_VERSION = "2023-04-01"

#: LUIS prebuilt entity → CLU prebuilt component category (spec §2.9's list). A LUIS name not
#: here (geographyV2, keyPhrase, the retired datetime v1…) has no CLU counterpart.
PREBUILT_CATEGORIES: Mapping[str, str] = {
    "age": "Quantity.Age",
    "datetimeV2": "DateTime",
    "dimension": "Quantity.Dimension",
    "email": "Email",
    "money": "Quantity.Currency",
    "number": "Quantity.Number",
    "ordinal": "Quantity.Ordinal",
    "ordinalV2": "Quantity.Ordinal",
    "percentage": "Quantity.Percentage",
    "personName": "Person.Name",
    "phonenumber": "Phone Number",
    "temperature": "Quantity.Temperature",
    "url": "URL",
}

_COMBINE = CompositionSetting.COMBINE_COMPONENTS.value


@dataclass(frozen=True, slots=True)
class LuisConversion:
    """A converted LUIS app and what happened to each of its parts."""

    #: A CLU project file (wire form) the normal Conversation import accepts.
    project_file: dict[str, Any]
    #: What became what, one human-readable line each.
    converted: tuple[str, ...]
    #: What could not be kept, one line each: patterns, phrase lists, features, Pattern.any…
    dropped: tuple[str, ...]


# -- the LUIS export, as far as the conversion reads it ----------------------------------------
# Unknown fields are ignored (WireModel): exports carry tokenizerVersion, bing_entities, …


class _Feature(WireModel):
    feature_name: StrictStr | None = None  # a phrase list
    model_name: StrictStr | None = None  # an entity (list, regex, prebuilt, machine-learned)
    is_required: StrictBool | None = None


class _MachineLearned(WireModel):
    name: StrictStr
    instance_of: StrictStr | None = None
    roles: list[StrictStr] | None = None
    children: list[_MachineLearned] | None = None
    features: list[_Feature] | None = None


class _Named(WireModel):
    name: StrictStr
    roles: list[StrictStr] | None = None


class _Composite(_Named):
    children: list[StrictStr] | None = None


class _SubList(WireModel):
    canonical_form: StrictStr
    words: list[StrictStr] | None = Field(default=None, alias="list")


class _ClosedList(_Named):
    sub_lists: list[_SubList] | None = None


class _RegexEntity(_Named):
    regex_pattern: StrictStr


class _Intent(WireModel):
    name: StrictStr
    features: list[_Feature] | None = None


class _Pattern(WireModel):
    pattern: StrictStr
    intent: StrictStr | None = None


class _Label(WireModel):
    entity: StrictStr
    start_pos: StrictInt
    end_pos: StrictInt
    role: StrictStr | None = None
    children: list[_Label] | None = None


class _Utterance(WireModel):
    text: StrictStr
    intent: StrictStr
    entities: list[_Label] | None = None


class _App(WireModel):
    name: StrictStr | None = None
    version_id: StrictStr | None = None
    desc: StrictStr | None = None
    culture: StrictStr
    intents: list[_Intent] | None = None
    entities: list[_MachineLearned] | None = None
    closed_lists: list[_ClosedList] | None = None
    regex_entities: list[_RegexEntity] | None = Field(default=None, alias="regex_entities")
    prebuilt_entities: list[_Named] | None = None
    composites: list[_Composite] | None = None
    hierarchicals: list[_Composite] | None = None
    pattern_any_entities: list[_Named] | None = None
    patterns: list[_Pattern] | None = None
    phraselists: list[_Named] | None = None
    model_features: list[_Named] | None = Field(default=None, alias="model_features")
    regex_features: list[_Named] | None = Field(default=None, alias="regex_features")
    settings: Any = None
    utterances: list[_Utterance] | None = None


# -- the conversion ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Node:
    """A machine-learned entity or one of its children, by its CLU name (``Order.Size``)."""

    category: str
    path: str
    children: dict[str, _Node] = field(default_factory=dict)

    @property
    def leaf(self) -> bool:
        return not self.children


@dataclass(frozen=True, slots=True)
class _Target:
    """What a label of a LUIS name becomes: a CLU entity, or a reason it is dropped."""

    category: str | None
    node: _Node | None = None
    dropped_because: str = ""


def convert_luis_app(app: Mapping[str, Any], project_name: str) -> LuisConversion:
    """The CLU project file ``project_name`` made of the LUIS app export ``app`` (decoded JSON).

    Raises ``InvalidRequestBody`` (wrong shape) or ``InvalidParameterValue`` (a value that
    breaks a rule) whose ``target`` is the JSON path in ``app``; nothing partial is returned.
    """
    if not isinstance(app, Mapping):
        raise InvalidRequestBody("a LUIS app must be a JSON object")
    refuse_unstorable_strings(app)
    version = app.get("luis_schema_version")
    if version is None:
        raise InvalidRequestBody("luis_schema_version is required", target="luis_schema_version")
    if not isinstance(version, str):
        raise InvalidRequestBody(
            "luis_schema_version must be a string", target="luis_schema_version"
        )
    if version not in SUPPORTED_LUIS_SCHEMA_VERSIONS:
        raise InvalidParameterValue(
            f"luis_schema_version {version!r} is not supported; supported: "
            f"{list(SUPPORTED_LUIS_SCHEMA_VERSIONS)} (export the app from LUIS again)",
            target="luis_schema_version",
        )
    return _Converter(parse(_App, app), version, project_name).run()


class _Converter:
    def __init__(self, app: _App, version: str, project_name: str) -> None:
        self.app = app
        self.version = version
        self.project_name = project_name
        self.language = app.culture.strip().lower()
        self.converted: list[str] = []
        self.dropped: list[str] = []
        #: Every LUIS entity name (of any kind) → its kind, for labels and features.
        self.kinds: dict[str, str] = {}
        self.lists = {item.name: item for item in app.closed_lists or ()}
        self.regexes = {item.name: item for item in app.regex_entities or ()}
        self.prebuilts = {item.name: item for item in app.prebuilt_entities or ()}
        self.trees: dict[str, _Node] = {}
        #: CLU entities in project order, and the LUIS path each came from (for duplicates).
        self.entities: list[dict[str, Any]] = []
        self.entity_paths: dict[str, str] = {}
        #: (LUIS entity, role) → what a label with that role becomes.
        self.roles: dict[tuple[str, str], _Target] = {}
        #: Why labels were dropped → how many, reported once per reason.
        self.dropped_labels: dict[str, int] = {}

    def run(self) -> LuisConversion:
        app = self.app
        if not self.language:
            raise InvalidParameterValue("culture must not be empty", target="culture")
        self.converted.append(
            f"LUIS app {app.name or ''!r} version {app.version_id or ''!r} (schema "
            f"{self.version}, culture {app.culture!r}) → Conversation project "
            f"{self.project_name!r} (language {self.language!r})"
        )
        intents = self._intents()
        self._register_names()
        self._machine_learned()
        self._closed_lists()
        self._regex_entities()
        self._prebuilt_entities()
        self._not_transferred()
        utterances = self._utterances(set(intents))
        self.dropped.extend(
            f"{count} utterance label{'s' if count != 1 else ''} of {reason}"
            for reason, count in self.dropped_labels.items()
        )
        metadata: dict[str, Any] = {
            "projectKind": "Conversation",
            "projectName": self.project_name,
            "language": self.language,
            "multilingual": False,
            "settings": {"confidenceThreshold": 0.0},
        }
        if app.desc:
            metadata["description"] = app.desc
        project_file = {
            "projectFileVersion": PROJECT_FILE_VERSION,
            "stringIndexType": "Utf16CodeUnit",
            "metadata": metadata,
            "assets": {
                "projectKind": "Conversation",
                "intents": [{"category": intent} for intent in intents],
                "entities": self.entities,
                "utterances": utterances,
            },
        }
        return LuisConversion(project_file, tuple(self.converted), tuple(self.dropped))

    # -- intents ---------------------------------------------------------------------------

    def _intents(self) -> list[str]:
        names: list[str] = []
        for index, intent in enumerate(self.app.intents or ()):
            path = f"intents[{index}]"
            _check_name(intent.name, f"{path}.name")
            if intent.name in names:
                raise InvalidParameterValue(
                    f"{path}.name: intent {intent.name!r} is defined twice",
                    target=f"{path}.name",
                )
            names.append(intent.name)
            for feature in intent.features or ():
                what = feature.feature_name or feature.model_name
                self.dropped.append(
                    f"feature {what!r} of intent {intent.name!r}: CLU intents take no features"
                )
        self.converted.append(
            f"intents ({len(names)}) → intents: {', '.join(repr(name) for name in names)}"
        )
        if NONE_INTENT not in names:
            names.append(NONE_INTENT)
            self.converted.append(f"intent {NONE_INTENT!r} added: every CLU project has it")
        return names

    # -- entity definitions ----------------------------------------------------------------

    def _register_names(self) -> None:
        """Every top-level LUIS entity name, once across all kinds."""
        app = self.app
        kinds: Iterable[tuple[str, str, list[Any] | None]] = (
            ("machine-learned", "entities", app.entities),
            ("closed list", "closedLists", app.closed_lists),
            ("regex", "regex_entities", app.regex_entities),
            ("prebuilt", "prebuiltEntities", app.prebuilt_entities),
            ("composite", "composites", app.composites),
            ("hierarchical", "hierarchicals", app.hierarchicals),
            ("Pattern.any", "patternAnyEntities", app.pattern_any_entities),
        )
        for kind, key, items in kinds:
            for index, item in enumerate(items or ()):
                path = f"{key}[{index}].name"
                _check_name(item.name, path)
                if item.name in self.kinds:
                    raise InvalidParameterValue(
                        f"{path}: entity name {item.name!r} is already used by a "
                        f"{self.kinds[item.name]} entity",
                        target=path,
                    )
                self.kinds[item.name] = kind

    def _add_entity(self, entity: dict[str, Any], path: str) -> None:
        category = entity["category"]
        if category in self.entity_paths:
            raise InvalidParameterValue(
                f"{path}: {category!r} would be a second CLU entity of that name "
                f"(the first comes from {self.entity_paths[category]})",
                target=path,
            )
        self.entity_paths[category] = path
        self.entities.append(entity)

    def _add_roles(
        self, name: str, roles: list[str] | None, entity: dict[str, Any], path: str
    ) -> None:
        for index, role in enumerate(roles or ()):
            role_path = f"{path}.roles[{index}]"
            _check_name(role, role_path)
            self._add_entity({**copy.deepcopy(entity), "category": role}, role_path)
            self.roles[(name, role)] = _Target(role)
            self.converted.append(
                f"role {role!r} of {name!r} → entity {role!r} with the components of {name!r}"
            )

    def _drop_roles(self, name: str, roles: list[str] | None, because: str) -> None:
        for role in roles or ():
            self.roles[(name, role)] = _Target(
                None, dropped_because=f"role {role!r} of {name!r} (dropped)"
            )
            self.dropped.append(f"role {role!r} of {name!r}: {because}")

    def _machine_learned(self) -> None:
        for index, entity in enumerate(self.app.entities or ()):
            path = f"entities[{index}]"
            tree = self._node(entity, entity.name, path)
            self.trees[entity.name] = tree
            if tree.leaf:
                self._add_roles(entity.name, entity.roles, self.entities[-1], path)
            else:
                leaves = ", ".join(repr(leaf.category) for leaf in _leaves(tree))
                self.converted.append(
                    f"machine-learned entity {entity.name!r} has children: its leaves → "
                    f"entities {leaves} (learned components)"
                )
                self._drop_roles(
                    entity.name,
                    entity.roles,
                    "roles of a machine-learned entity with children are not transferred "
                    "(only its leaves become entities)",
                )

    def _node(self, entity: _MachineLearned, category: str, path: str) -> _Node:
        node = _Node(category, path)
        for index, child in enumerate(entity.children or ()):
            child_path = f"{path}.children[{index}]"
            _check_name(child.name, f"{child_path}.name")
            if child.name in node.children:
                raise InvalidParameterValue(
                    f"{child_path}.name: {category!r} has two children named {child.name!r}",
                    target=f"{child_path}.name",
                )
            node.children[child.name] = self._node(child, f"{category}.{child.name}", child_path)
        if node.leaf:
            self._add_entity(self._leaf_entity(entity, category, path), f"{path}.name")
        else:
            for feature in entity.features or ():
                what = feature.model_name or feature.feature_name
                self.dropped.append(
                    f"feature {what!r} of machine-learned entity {category!r}: it has "
                    "children, so it is no entity in CLU (only its leaves are)"
                )
            if entity.instance_of:
                self.dropped.append(
                    f"instanceOf {entity.instance_of!r} of machine-learned entity "
                    f"{category!r}: it has children, so it is no entity in CLU"
                )
        return node

    def _leaf_entity(self, entity: _MachineLearned, category: str, path: str) -> dict[str, Any]:
        """A machine-learned leaf: learned (from its labels), plus the components its
        features (and ``instanceOf``, a required one) name."""
        sublists: list[dict[str, Any]] = []
        expressions: list[dict[str, Any]] = []
        prebuilts: list[str] = []
        required: list[str] = []
        added: list[str] = []
        features = [(f"{path}.features[{i}]", f) for i, f in enumerate(entity.features or ())]
        if entity.instance_of:
            features.append(
                (path, _Feature.model_construct(model_name=entity.instance_of, is_required=True))
            )
        for feature_path, feature in features:
            if feature.model_name is None:
                if feature.feature_name is not None:
                    self.dropped.append(
                        f"feature {feature.feature_name!r} of entity {category!r}: phrase "
                        "lists are not transferred"
                    )
                continue
            model = feature.model_name
            target = (
                f"{feature_path}.instanceOf"
                if feature_path == path
                else f"{feature_path}.modelName"
            )
            kind = self.kinds.get(model)
            component: EntityComponent | None = None
            if kind is None:
                raise InvalidParameterValue(
                    f"{target}: {category!r} names {model!r}, which is no entity of the app",
                    target=target,
                )
            if kind == "closed list":
                sublists.extend(self._sublists(self.lists[model]))
                component = EntityComponent.LIST
            elif kind == "regex":
                expressions.append(self._expression(self.regexes[model]))
                component = EntityComponent.REGEX
            elif kind == "prebuilt" and model in PREBUILT_CATEGORIES:
                if PREBUILT_CATEGORIES[model] not in prebuilts:
                    prebuilts.append(PREBUILT_CATEGORIES[model])
                component = EntityComponent.PREBUILTS
            else:
                reason = (
                    "CLU has no equivalent prebuilt component"
                    if kind == "prebuilt"
                    else f"a {kind} entity cannot be a component in CLU"
                )
                self.dropped.append(f"feature {model!r} of entity {category!r}: {reason}")
                continue
            added.append(f"{component.value} component from {kind} {model!r}")
            if feature.is_required and component.value not in required:
                required.append(component.value)
        result: dict[str, Any] = {"category": category, "compositionSetting": _COMBINE}
        if sublists:
            result["list"] = {"sublists": sublists}
        if prebuilts:
            result["prebuilts"] = [{"category": name} for name in prebuilts]
        if expressions:
            result["regex"] = {"expressions": expressions}
        if required:
            result["requiredComponents"] = required
        what = "machine-learned entity" if "." not in category else "machine-learned child"
        extra = "".join(f" + {part}" for part in added)
        self.converted.append(
            f"{what} {category!r} → entity {category!r} (learned component{extra}"
            f"{'; required: ' + ', '.join(required) if required else ''})"
        )
        return result

    def _sublists(self, closed: _ClosedList) -> list[dict[str, Any]]:
        return [
            {
                "listKey": sub.canonical_form,
                "synonyms": [
                    {
                        "language": self.language,
                        # The canonical form is itself a word of the item in LUIS.
                        "values": list(dict.fromkeys([sub.canonical_form, *(sub.words or ())])),
                    }
                ],
            }
            for sub in closed.sub_lists or ()
        ]

    def _expression(self, regex: _RegexEntity) -> dict[str, Any]:
        return {
            "regexKey": regex.name,
            "language": self.language,
            "regexPattern": regex.regex_pattern,
        }

    def _closed_lists(self) -> None:
        for index, closed in enumerate(self.app.closed_lists or ()):
            path = f"closedLists[{index}]"
            entity = {
                "category": closed.name,
                "compositionSetting": _COMBINE,
                "list": {"sublists": self._sublists(closed)},
            }
            self._add_entity(entity, f"{path}.name")
            count = len(closed.sub_lists or ())
            self.converted.append(
                f"closed list {closed.name!r} → list component of entity {closed.name!r} "
                f"({count} item{'s' if count != 1 else ''})"
            )
            self._add_roles(closed.name, closed.roles, entity, path)

    def _regex_entities(self) -> None:
        for index, regex in enumerate(self.app.regex_entities or ()):
            path = f"regex_entities[{index}]"
            entity = {
                "category": regex.name,
                "compositionSetting": _COMBINE,
                "regex": {"expressions": [self._expression(regex)]},
            }
            self._add_entity(entity, f"{path}.name")
            self.converted.append(
                f"regex entity {regex.name!r} → regex component of entity {regex.name!r}"
            )
            self._add_roles(regex.name, regex.roles, entity, path)

    def _prebuilt_entities(self) -> None:
        for index, prebuilt in enumerate(self.app.prebuilt_entities or ()):
            path = f"prebuiltEntities[{index}]"
            category = PREBUILT_CATEGORIES.get(prebuilt.name)
            if category is None:
                self.dropped.append(
                    f"prebuilt entity {prebuilt.name!r}: CLU has no equivalent prebuilt component"
                )
                self._drop_roles(prebuilt.name, prebuilt.roles, "its prebuilt entity is dropped")
                continue
            entity = {
                "category": prebuilt.name,
                "compositionSetting": _COMBINE,
                "prebuilts": [{"category": category}],
            }
            self._add_entity(entity, f"{path}.name")
            self.converted.append(
                f"prebuilt entity {prebuilt.name!r} → prebuilt component {category!r} of "
                f"entity {prebuilt.name!r}"
            )
            self._add_roles(prebuilt.name, prebuilt.roles, entity, path)

    def _not_transferred(self) -> None:
        app = self.app
        for composite in app.composites or ():
            children = ", ".join(repr(child) for child in composite.children or ())
            self.dropped.append(
                f"composite entity {composite.name!r} ({children}): CLU has no composite "
                "entities; its children keep their own entities and labels"
            )
            self._drop_roles(composite.name, composite.roles, "its composite entity is dropped")
        for hierarchical in app.hierarchicals or ():
            self.dropped.append(
                f"hierarchical entity {hierarchical.name!r}: deprecated in LUIS, no CLU counterpart"
            )
            self._drop_roles(
                hierarchical.name, hierarchical.roles, "its hierarchical entity is dropped"
            )
        for pattern_any in app.pattern_any_entities or ():
            self.dropped.append(f"Pattern.any entity {pattern_any.name!r}: not available in CLU")
            self._drop_roles(
                pattern_any.name, pattern_any.roles, "its Pattern.any entity is dropped"
            )
        for pattern in app.patterns or ():
            self.dropped.append(
                f"pattern {pattern.pattern!r} (intent {pattern.intent!r}): CLU has no patterns"
            )
        for phrase_list in [*(app.phraselists or ()), *(app.model_features or ())]:
            self.dropped.append(f"phrase list {phrase_list.name!r}: CLU has no phrase lists")
        for regex_feature in app.regex_features or ():
            self.dropped.append(
                f"regex feature {regex_feature.name!r}: deprecated in LUIS, no CLU counterpart"
            )
        if app.settings:
            self.dropped.append(
                f"settings {_settings_text(app.settings)}: LUIS settings are not transferred"
            )

    # -- utterances ------------------------------------------------------------------------

    def _utterances(self, intents: set[str]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        total = 0
        for index, utterance in enumerate(self.app.utterances or ()):
            path = f"utterances[{index}]"
            if not utterance.text.strip():
                raise InvalidParameterValue(
                    f"{path}.text: an utterance must not be empty", target=f"{path}.text"
                )
            if utterance.intent not in intents:
                raise InvalidParameterValue(
                    f"{path}.intent: intent {utterance.intent!r} is not defined in intents",
                    target=f"{path}.intent",
                )
            units = utterance.text.encode("utf-16-le")
            labels: list[tuple[int, int, str]] = []
            for label_index, label in enumerate(utterance.entities or ()):
                self._label(label, f"{path}.entities[{label_index}]", units, None, labels)
            kept = self._without_overlaps(labels, path)
            total += len(kept)
            result.append(
                {
                    "text": utterance.text,
                    "intent": utterance.intent,
                    "entities": [
                        {"category": category, "offset": start, "length": end - start}
                        for start, end, category in kept
                    ],
                }
            )
        self.converted.append(
            f"utterances ({len(result)}) → utterances with {total} entity label"
            f"{'s' if total != 1 else ''} (inclusive startPos/endPos → offset/length, "
            "UTF-16 code units)"
        )
        return result

    def _label(
        self,
        label: _Label,
        path: str,
        units: bytes,
        parent: _Node | None,
        found: list[tuple[int, int, str]],
    ) -> None:
        """Check ``label`` (at ``path``), and add what it becomes to ``found`` as
        ``(start, end, category)`` in UTF-16 code units, end exclusive."""
        _check_positions(label, path, units)
        target = self._target(label, path, parent)
        children = label.children or ()
        if children and (target.node is None or target.node.leaf):
            raise InvalidParameterValue(
                f"{path}.children[0].entity: {label.entity!r} has no children",
                target=f"{path}.children[0].entity",
            )
        for index, child in enumerate(children):
            self._label(child, f"{path}.children[{index}]", units, target.node, found)
        if target.category is not None:
            found.append((label.start_pos, label.end_pos + 1, target.category))
        else:
            self.dropped_labels[target.dropped_because] = (
                self.dropped_labels.get(target.dropped_because, 0) + 1
            )

    def _target(self, label: _Label, path: str, parent: _Node | None) -> _Target:
        name = label.entity
        if parent is not None:
            node = parent.children.get(name)
            if node is None:
                raise InvalidParameterValue(
                    f"{path}.entity: {name!r} is not a child of {parent.category!r}",
                    target=f"{path}.entity",
                )
            return self._node_target(node)
        kind = self.kinds.get(name)
        if kind is None:
            raise InvalidParameterValue(
                f"{path}.entity: entity {name!r} is not defined in the app", target=f"{path}.entity"
            )
        if label.role:
            role = self.roles.get((name, label.role))
            if role is None:
                raise InvalidParameterValue(
                    f"{path}.role: {name!r} has no role {label.role!r}", target=f"{path}.role"
                )
            if kind == "machine-learned":
                return _Target(role.category, self.trees[name], role.dropped_because)
            return role
        if kind == "machine-learned":
            return self._node_target(self.trees[name])
        if kind == "prebuilt" and name not in PREBUILT_CATEGORIES:
            return _Target(None, dropped_because=f"prebuilt entity {name!r} (dropped)")
        if kind in ("closed list", "regex", "prebuilt"):
            return _Target(name)
        return _Target(None, dropped_because=f"{kind} entity {name!r} (dropped)")

    @staticmethod
    def _node_target(node: _Node) -> _Target:
        if node.leaf:
            return _Target(node.category, node)
        return _Target(
            None,
            node,
            f"machine-learned entity {node.category!r} (it has children: only its leaves "
            "are entities in CLU)",
        )

    def _without_overlaps(
        self, labels: list[tuple[int, int, str]], path: str
    ) -> list[tuple[int, int, str]]:
        """The labels, sorted, less any that overlaps an earlier (or enclosing) label of the
        same entity: CLU refuses overlapping labels of one entity (spec §2.4)."""
        kept: list[tuple[int, int, str]] = []
        for start, end, category in sorted(labels, key=lambda item: (item[0], -item[1], item[2])):
            clash = next(
                (
                    other
                    for other in kept
                    if other[2] == category and other[0] < end and start < other[1]
                ),
                None,
            )
            if clash is None:
                kept.append((start, end, category))
            else:
                self.dropped.append(
                    f"{path}: label of {category!r} at UTF-16 [{start}, {end}) overlaps its "
                    f"label at [{clash[0]}, {clash[1]}); the first is kept"
                )
        return kept


def _leaves(node: _Node) -> list[_Node]:
    if node.leaf:
        return [node]
    return [leaf for child in node.children.values() for leaf in _leaves(child)]


def _check_name(name: str, path: str) -> None:
    if not name.strip():
        raise InvalidParameterValue(f"{path} must not be empty", target=path)


def _check_positions(label: _Label, path: str, units: bytes) -> None:
    """LUIS positions are inclusive UTF-16 indexes (LUIS is .NET); both must be in the text
    and neither may split a surrogate pair."""
    size = len(units) // 2

    def unit(index: int) -> int:
        return int.from_bytes(units[2 * index : 2 * index + 2], "little")

    start, end = label.start_pos, label.end_pos
    if not 0 <= start < size:
        raise InvalidParameterValue(
            f"{path}.startPos {start} is outside the text (0 to {size - 1})",
            target=f"{path}.startPos",
        )
    if end < start:
        raise InvalidParameterValue(
            f"{path}.endPos {end} is before startPos {start} (endPos is inclusive)",
            target=f"{path}.endPos",
        )
    if end >= size:
        raise InvalidParameterValue(
            f"{path}.endPos {end} is outside the text (0 to {size - 1})",
            target=f"{path}.endPos",
        )
    if 0xDC00 <= unit(start) <= 0xDFFF:
        raise InvalidParameterValue(
            f"{path}.startPos {start} splits a surrogate pair (positions count UTF-16 units)",
            target=f"{path}.startPos",
        )
    if 0xD800 <= unit(end) <= 0xDBFF:
        raise InvalidParameterValue(
            f"{path}.endPos {end} splits a surrogate pair (positions count UTF-16 units)",
            target=f"{path}.endPos",
        )


def _settings_text(settings: object) -> str:
    if isinstance(settings, list):
        parts = [
            f"{item.get('name')}={item.get('value')}" if isinstance(item, Mapping) else repr(item)
            for item in settings
        ]
        return "(" + ", ".join(parts) + ")"
    return repr(settings)
