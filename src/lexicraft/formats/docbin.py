"""spaCy DocBin files (``.spacy``, spaCy v3's training data), read and written without spaCy.

A DocBin is ``zlib(msgpack(message))`` (spaCy's ``spacy/tokens/_serialize.py``, version
``"0.1"``). The message holds ``attrs`` (spaCy attribute ids, ORTH first), ``tokens`` (a C-order
uint64 array, one row per token and one column per attribute, all documents concatenated),
``spaces`` (one byte per token: followed by a space), ``lengths`` (int32 tokens per document),
``strings`` (every string the hashes stand for), and per document ``cats``, ``flags``,
``span_groups`` and, optionally, ``user_data``. String values are 64-bit ids: 0 for ``""``, the
index in spaCy's symbol table for its ~450 reserved names (``ORG``, ``LOC``, ``root``, …), else
spaCy's ``hash_string`` of the UTF-8 bytes.

Reading: a document's text is its tokens' ORTH, each followed by a space where ``spaces`` says
so; entities come from the ENT_IOB / ENT_TYPE columns exactly as spaCy's ``Doc.ents`` decodes
them, with code-point offsets counted on that text; classes are the ``cats`` scored 0.5 or more.
Other columns and span groups are ignored. Documents whose spaces spaCy did not know
(``flags.has_unknown_spaces``, e.g. converted from CoNLL) get single spaces between tokens and
none at the end. A file can hold entities and cats; a Lexicraft project holds one, so
``kind`` picks the layer to read, and without it the layer the documents use decides.

Writing: texts are tokenized with :func:`lexicraft.ml.tokenize.tokenize`, and tokens are split
where an entity starts or ends inside them: a DocBin token need not be a word, so entities are
kept exactly (unlike CoNLL, which must refuse them). spaCy can only record one space after a
token; any other whitespace becomes a whitespace token, as spaCy's tokenizer does, so texts come
back unchanged. Document ids, datasets and languages go in ``user_data`` under ``"lexicraft"``.

Errors name the document as ``docs[i]`` (0-based, the ``i``-th doc of ``DocBin.get_docs``).
Nothing is unpickled; the decompressed size is bounded so that a zip bomb is refused.
"""

from __future__ import annotations

import bisect
import itertools
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import numpy as np
import numpy.typing as npt

from lexicraft.domain.projects import Document, ProjectKind
from lexicraft.domain.spans import Span
from lexicraft.errors import InvalidFileRecord, InvalidParameterValue, UnrepresentableDocument
from lexicraft.formats.base import (
    Collector,
    LabeledData,
    RecordError,
    check_spans,
    check_text,
    generated_location,
    parse_dataset,
)
from lexicraft.ml.tokenize import tokenize

NAME = "spacy"
VERSION = "0.1"

# Attribute ids of spacy.attrs (spaCy 3.8.18); stable across spaCy v3.
ORTH = 65
ENT_IOB = 77
ENT_TYPE = 78
# ENT_IOB values: spaCy's Token.iob_strings() is ("", "I", "O", "B").
IOB_UNSET, IOB_INSIDE, IOB_OUTSIDE, IOB_BEGIN = 0, 1, 2, 3


def _words(names: str) -> list[str]:
    # Word lists read (and compare with spacy/symbols.pyx) better than 450 quoted items.
    return names.split()


#: spaCy's symbol table (``spacy.symbols.NAMES``, spaCy 3.8.18): a string listed here is stored
#: as its index, not its hash, and an id below ``len(SYMBOLS)`` always means the symbol.
SYMBOLS: tuple[str, ...] = (
    "",
    *_words(
        "IS_ALPHA IS_ASCII IS_DIGIT IS_LOWER IS_PUNCT IS_SPACE IS_TITLE IS_UPPER LIKE_URL "
        "LIKE_NUM LIKE_EMAIL IS_STOP IS_OOV_DEPRECATED IS_BRACKET IS_QUOTE IS_LEFT_PUNCT "
        "IS_RIGHT_PUNCT IS_CURRENCY"
    ),
    *(f"FLAG{number}" for number in range(19, 64)),
    *_words(
        "ID ORTH LOWER NORM SHAPE PREFIX SUFFIX LENGTH CLUSTER LEMMA POS TAG DEP ENT_IOB "
        "ENT_TYPE HEAD SENT_START SPACY PROB LANG ADJ ADP ADV AUX CONJ CCONJ DET INTJ NOUN NUM "
        "PART PRON PROPN PUNCT SCONJ SYM VERB X EOL SPACE"
    ),
    *(f"DEPRECATED{number:03d}" for number in range(1, 277)),
    *_words(
        "PERSON NORP FACILITY ORG GPE LOC PRODUCT EVENT WORK_OF_ART LANGUAGE LAW DATE TIME "
        "PERCENT MONEY QUANTITY ORDINAL CARDINAL acomp advcl advmod agent amod appos attr aux "
        "auxpass cc ccomp complm conj cop csubj csubjpass dep det dobj expl hmod hyph infmod "
        "intj iobj mark meta neg nmod nn npadvmod nsubj nsubjpass num number oprd obj obl "
        "parataxis partmod pcomp pobj poss possessive preconj prep prt punct quantmod relcl "
        "rcmod root xcomp acl ENT_KB_ID MORPH ENT_ID IDX _"
    ),
)
_SYMBOL_IDS = {name: index for index, name in enumerate(SYMBOLS) if name}

#: Refuse files that decompress to more than this (a DocBin is ~25-105 bytes per token).
MAX_DECOMPRESSED_BYTES = 1 << 30

_MASK = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995
_MURMUR_R = 47
_BLOCK = struct.Struct("<Q")
# What spaCy writes for a document without span groups (msgpack of an empty list).
_NO_SPAN_GROUPS = b"\x90"
_REQUIRED = ("attrs", "tokens", "spaces", "lengths", "strings", "cats")


def hash_string(text: str) -> int:
    """spaCy's ``hash_string``: MurmurHash64A (seed 1) of the UTF-8 bytes of ``text``."""
    data = text.encode("utf-8")
    whole = len(data) - len(data) % 8
    value = 1 ^ ((len(data) * _MURMUR_M) & _MASK)
    for (block,) in _BLOCK.iter_unpack(data[:whole]):
        block = (block * _MURMUR_M) & _MASK
        block ^= block >> _MURMUR_R
        block = (block * _MURMUR_M) & _MASK
        value = ((value ^ block) * _MURMUR_M) & _MASK
    if whole < len(data):
        value = ((value ^ int.from_bytes(data[whole:], "little")) * _MURMUR_M) & _MASK
    value ^= value >> _MURMUR_R
    value = (value * _MURMUR_M) & _MASK
    return value ^ (value >> _MURMUR_R)


def string_id(text: str) -> int:
    """The id spaCy stores for ``text``: 0 for ``""``, a symbol's index, else its hash."""
    if not text:
        return 0
    return _SYMBOL_IDS.get(text) or hash_string(text)


# --- reading -------------------------------------------------------------------------------


def read(
    source: Path | str | bytes,
    *,
    kind: ProjectKind | None = None,
    skip_invalid: bool = False,
    max_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> LabeledData:
    """Documents of a DocBin file (``source``: its path, or its bytes).

    A DocBin is binary, so text content (standard input) is refused. ``kind`` chooses between
    entities and cats; without it the documents' annotations decide.
    """
    data = _load_bytes(source)
    message = _unpack(_decompress(data, max_bytes))
    docbin = _DocBin.parse(message)
    collector = Collector(requested=kind, skip_invalid=skip_invalid)
    vote = _LayerVote(kind)
    for index in range(docbin.count):
        with collector.record(None):
            document, layer = docbin.document(index, vote)
            try:
                collector.add(document, line=None, id_field=f"docs[{index}].user_data.lexicraft.id")
            except RecordError as error:
                # The collector names the domain field; name the DocBin one instead.
                if error.field == "classes":
                    error.field = f"docs[{index}].cats"
                raise
            vote.settle(layer, index)
            if layer:
                # spaCy lists every label in each doc's cats (0.0 for the absent ones).
                collector.declare_labels(docbin.cats[index])
    if vote.decided is None:
        raise InvalidParameterValue(
            "the spaCy DocBin file has no entity tags (ENT_IOB) or cats that tell whether it "
            "holds entities or classes; pass --kind ner, single or multi",
            target="kind",
        )
    if not vote.decided:
        return collector.result(ProjectKind.ENTITY_RECOGNITION)
    return collector.result(collector.classification_kind())


def _load_bytes(source: Path | str | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        raise InvalidParameterValue(
            "spaCy DocBin files are binary: give the path of the .spacy file, not its content "
            "as text (standard input cannot carry it)",
            target="file",
        )
    try:
        return source.read_bytes()
    except OSError as error:
        raise InvalidParameterValue(
            f"cannot read {str(source)!r}: {error.strerror or error}", target="file"
        ) from error


def _decompress(data: bytes, max_bytes: int) -> bytes:
    if not data:
        raise InvalidFileRecord("the file is empty; a spaCy DocBin is zlib-compressed msgpack")
    decompressor = zlib.decompressobj()
    try:
        payload = decompressor.decompress(data, max_bytes + 1)
    except zlib.error as error:
        raise InvalidFileRecord(
            f"the file is not a spaCy DocBin: it is not zlib-compressed data ({error})"
        ) from None
    if len(payload) > max_bytes:
        raise InvalidFileRecord(
            f"the DocBin decompresses to more than {max_bytes:,} bytes, the most Lexicraft "
            "reads at once; split it into smaller files (spaCy: DocBin.get_docs, then several "
            "DocBin.to_disk)"
        )
    if not decompressor.eof:
        raise InvalidFileRecord("the DocBin file is truncated: its zlib stream ends early")
    return payload


def _unpack(payload: bytes) -> dict[Any, Any]:
    try:
        # use_list=False: spaCy's user_data may have tuple keys (custom extensions), which
        # must stay hashable; strict_map_key=False allows them. No ext hook runs any code.
        message = msgpack.unpackb(payload, raw=False, strict_map_key=False, use_list=False)
    except (ValueError, TypeError, msgpack.UnpackException) as error:
        raise InvalidFileRecord(
            "the file is not a spaCy DocBin: its content is not valid msgpack "
            f"({str(error) or type(error).__name__})"
        ) from None
    if not isinstance(message, dict):
        raise InvalidFileRecord(
            f"the file is not a spaCy DocBin: it holds a {_kind_of(message)}, not a map "
            f"with the keys {list(_REQUIRED)}"
        )
    return message


def _kind_of(value: object) -> str:
    """The msgpack name of ``value``'s type (arrays decode as tuples, maps as dicts)."""
    if isinstance(value, tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "nil" if value is None else type(value).__name__


def _file_error(field: str, problem: str) -> InvalidFileRecord:
    return InvalidFileRecord(problem, field=field)


def _bytes_field(message: Mapping[Any, Any], key: str) -> bytes:
    value = message[key]
    if not isinstance(value, bytes):
        raise _file_error(key, f"must be bytes (a numpy array's buffer), not {_kind_of(value)}")
    return value


def _sequence_field(message: Mapping[Any, Any], key: str, count: int | None) -> tuple[Any, ...]:
    value = message[key]
    if not isinstance(value, tuple):
        raise _file_error(key, f"must be a list, not {_kind_of(value)}")
    if count is not None and len(value) != count:
        raise _file_error(key, f"has {len(value)} entries, but 'lengths' lists {count} documents")
    return value


class _LayerVote:
    """Which annotation layer the file holds: entities (False) or cats (True)."""

    def __init__(self, requested: ProjectKind | None) -> None:
        self.requested = requested
        self.decided: bool | None = None if requested is None else requested.is_classification
        self.decided_on: int | None = None

    def layer(self, has_entities: bool, has_cats: bool, index: int) -> bool | None:
        """The layer to read from document ``index``; a document at odds is a RecordError."""
        if self.requested is not None or not (has_entities or has_cats):
            return self.decided
        if has_entities and has_cats:
            raise RecordError(
                "has both entity tags and cats; a Lexicraft project holds one or the other: "
                "pass --kind to read only one",
                f"docs[{index}].cats",
            )
        if self.decided is not None and self.decided != has_cats:
            has, holds = ("cats", "entity tags") if has_cats else ("entity tags", "cats")
            raise RecordError(
                f"has {has}, but docs[{self.decided_on}] has {holds}; a Lexicraft project holds "
                "one or the other: pass --kind to read only one",
                f"docs[{index}].{'cats' if has_cats else 'tokens'}",
            )
        return has_cats

    def settle(self, layer: bool | None, index: int) -> None:
        """Document ``index`` was read with ``layer``: the first one decides for the file."""
        if self.decided is None and layer is not None:
            self.decided, self.decided_on = layer, index


@dataclass(frozen=True, slots=True)
class _DocBin:
    """A DocBin message, checked as a whole; documents are built (and checked) one by one."""

    attrs: tuple[int, ...]
    tokens: npt.NDArray[np.uint64]
    spaces: npt.NDArray[np.bool_]
    offsets: tuple[int, ...]  # first token of each document, plus the total
    strings: dict[int, str]
    cats: tuple[Any, ...]
    flags: tuple[Any, ...]
    user_data: tuple[Any, ...]

    @property
    def count(self) -> int:
        return len(self.offsets) - 1

    @classmethod
    def parse(cls, message: Mapping[Any, Any]) -> _DocBin:
        missing = [key for key in _REQUIRED if key not in message]
        if missing:
            raise _file_error(
                missing[0],
                f"is missing; a spaCy DocBin holds the keys {list(_REQUIRED)} (missing: {missing})",
            )
        attrs = _sequence_field(message, "attrs", None)
        if not all(isinstance(attr, int) and not isinstance(attr, bool) for attr in attrs):
            raise _file_error("attrs", "must be a list of spaCy attribute ids (whole numbers)")
        if ORTH not in attrs:
            raise _file_error("attrs", f"must include ORTH ({ORTH}), the token texts")
        lengths_bytes = _bytes_field(message, "lengths")
        if len(lengths_bytes) % 4:
            raise _file_error("lengths", "must be an int32 array (a multiple of 4 bytes)")
        lengths = np.frombuffer(lengths_bytes, dtype="<i4")
        if (lengths < 0).any():
            raise _file_error("lengths", "has a negative document length")
        count = len(lengths)
        offsets = (0, *itertools.accumulate(int(length) for length in lengths))
        token_bytes = _bytes_field(message, "tokens")
        row_size = 8 * len(attrs)
        if len(token_bytes) % row_size or len(token_bytes) // row_size != offsets[-1]:
            raise _file_error(
                "tokens",
                f"holds {len(token_bytes)} bytes, but {offsets[-1]} tokens of {len(attrs)} "
                f"uint64 attributes take {offsets[-1] * row_size}",
            )
        tokens = np.frombuffer(token_bytes, dtype="<u8").reshape(offsets[-1], len(attrs))
        space_bytes = _bytes_field(message, "spaces")
        if len(space_bytes) != offsets[-1]:
            raise _file_error(
                "spaces",
                f"holds {len(space_bytes)} bytes, but there are {offsets[-1]} tokens (one each)",
            )
        spaces = np.frombuffer(space_bytes, dtype=np.uint8) != 0
        strings = _sequence_field(message, "strings", None)
        table: dict[int, str] = {}
        for index, string in enumerate(strings):
            if not isinstance(string, str):
                raise _file_error(f"strings[{index}]", f"must be a string, not {_kind_of(string)}")
            table[hash_string(string)] = string
        absent: tuple[Any, ...] = (None,) * count
        return cls(
            attrs=attrs,
            tokens=tokens,
            spaces=spaces,
            offsets=offsets,
            strings=table,
            cats=_sequence_field(message, "cats", count),
            flags=_sequence_field(message, "flags", count) if "flags" in message else absent,
            user_data=(
                _sequence_field(message, "user_data", count) if "user_data" in message else absent
            ),
        )

    def _string(self, value: int, field: str) -> str:
        if value < len(SYMBOLS):
            return SYMBOLS[value]
        found = self.strings.get(value)
        if found is None:
            raise RecordError(
                f"holds the string id {value}, which is neither a spaCy symbol nor the hash of "
                "a string in the file's 'strings' list",
                field,
            )
        return found

    def _column(self, attr: int, first: int, last: int) -> list[int] | None:
        if attr not in self.attrs:
            return None
        values: list[int] = self.tokens[first:last, self.attrs.index(attr)].tolist()
        return values

    def document(self, index: int, vote: _LayerVote) -> tuple[Document, bool | None]:
        """The ``index``-th document and the layer read (True: cats); RecordError if bad."""
        where = f"docs[{index}]"
        first, last = self.offsets[index], self.offsets[index + 1]
        words = [
            self._string(orth, f"{where}.tokens[{number}].ORTH")
            for number, orth in enumerate(self._column(ORTH, first, last) or [])
        ]
        flags = self.flags[index]
        if flags is not None and not isinstance(flags, dict):
            raise RecordError(f"must be a map, not {_kind_of(flags)}", f"{where}.flags")
        spaces: list[bool]
        if flags and flags.get("has_unknown_spaces"):
            spaces = [number < len(words) - 1 for number in range(len(words))]
        else:
            spaces = self.spaces[first:last].tolist()
        starts: list[int] = []
        position = 0
        for word, space in zip(words, spaces, strict=True):
            starts.append(position)
            position += len(word) + (1 if space else 0)
        text = check_text(
            "".join(word + " " * space for word, space in zip(words, spaces, strict=True)),
            f"{where}.tokens",
        )
        cats = self.cats[index]
        if not isinstance(cats, dict):
            raise RecordError(
                f"must be a map of class to score, not {_kind_of(cats)}", f"{where}.cats"
            )
        iobs = self._column(ENT_IOB, first, last) or []
        classification = vote.layer(any(iob != IOB_UNSET for iob in iobs), bool(cats), index)
        spans: tuple[Span, ...] = ()
        classes: tuple[str, ...] = ()
        if classification:
            classes = _classes(cats, f"{where}.cats")
        elif classification is not None:
            spans = check_spans(text, self._entities(index, words, starts))
        metadata = self._metadata(index)
        field = f"{where}.user_data.lexicraft"
        document = Document(
            location=_metadata_string(metadata, "id", field) or generated_location(index + 1),
            text=text,
            language=_metadata_string(metadata, "language", field),
            dataset=parse_dataset(metadata.get("dataset"), f"{field}.dataset"),
            spans=spans,
            classes=classes,
        )
        return document, classification

    def _entities(
        self, index: int, words: Sequence[str], starts: Sequence[int]
    ) -> list[tuple[Span, str]]:
        """Entities as spaCy's ``Doc.ents`` decodes the ENT_IOB / ENT_TYPE columns."""
        first, last = self.offsets[index], self.offsets[index + 1]
        iobs = self._column(ENT_IOB, first, last)
        if iobs is None:
            return []
        types = self._column(ENT_TYPE, first, last) or [0] * len(iobs)
        entities: list[tuple[Span, str]] = []
        open_start: int | None = None
        category = ""

        def close(end: int) -> None:
            nonlocal open_start
            if open_start is not None:
                span = Span(starts[open_start], starts[end - 1] + len(words[end - 1]), category)
                entities.append((span, f"docs[{index}].tokens[{open_start}].ENT_TYPE"))
            open_start = None

        for number, (iob, type_id) in enumerate(zip(iobs, types, strict=True)):
            field = f"docs[{index}].tokens[{number}].ENT_IOB"
            if iob == IOB_INSIDE:
                if open_start is None:
                    raise RecordError(
                        "is I (inside an entity), but no B token starts the entity", field
                    )
            elif iob in (IOB_UNSET, IOB_OUTSIDE) or (iob == IOB_BEGIN and type_id == 0):
                close(number)
            elif iob == IOB_BEGIN:
                close(number)
                open_start = number
                category = self._string(type_id, f"docs[{index}].tokens[{number}].ENT_TYPE")
            else:
                raise RecordError(
                    f"is {iob}; ENT_IOB values are 0 (unset), 1 (I), 2 (O) and 3 (B)", field
                )
        close(len(iobs))
        return entities

    def _metadata(self, index: int) -> dict[Any, Any]:
        """The ``"lexicraft"`` entry of the document's user_data (empty when absent)."""
        packed = self.user_data[index]
        field = f"docs[{index}].user_data"
        if packed is None:
            return {}
        if not isinstance(packed, bytes):
            raise RecordError(f"must be msgpack bytes, not {_kind_of(packed)}", field)
        try:
            user_data = msgpack.unpackb(packed, raw=False, strict_map_key=False, use_list=False)
        except (ValueError, TypeError, msgpack.UnpackException) as error:
            raise RecordError(
                f"is not valid msgpack ({str(error) or type(error).__name__})", field
            ) from None
        if not isinstance(user_data, dict):
            raise RecordError(f"must be a map, not {_kind_of(user_data)}", field)
        metadata = user_data.get("lexicraft")
        if metadata is None:
            return {}
        if not isinstance(metadata, dict):
            raise RecordError(f"must be a map, not {_kind_of(metadata)}", f"{field}.lexicraft")
        return metadata


def _metadata_string(metadata: Mapping[Any, Any], key: str, field: str) -> str | None:
    value = metadata.get(key)
    if value is not None and not isinstance(value, str):
        raise RecordError(f"must be a string, not {_kind_of(value)}", f"{field}.{key}")
    return value


def _classes(cats: Mapping[Any, Any], field: str) -> tuple[str, ...]:
    """Classes scored 0.5 or more, in the file's order."""
    classes: list[str] = []
    for category, score in cats.items():
        if not isinstance(category, str) or not category or category.strip() != category:
            raise RecordError(
                f"class {category!r} must be a non-empty string without surrounding spaces", field
            )
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise RecordError(f"score {score!r} of {category!r} must be a number", field)
        if score >= 0.5:
            classes.append(category)
    return tuple(classes)


# --- writing -------------------------------------------------------------------------------


def _pieces(text: str, spans: Sequence[Span]) -> list[tuple[int, int, bool]]:
    """``(start, end, followed by a space)`` of the DocBin tokens of ``text``.

    Tokens of :func:`tokenize`, split where a span starts or ends inside one; the whitespace
    between them is one trailing space where possible, else whitespace tokens.
    """
    starts = {span.start for span in spans}
    ends = {span.end for span in spans}
    cuts = sorted(starts | ends)
    pieces: list[tuple[int, int, bool]] = []

    def add(start: int, end: int) -> None:
        inner = cuts[bisect.bisect_right(cuts, start) : bisect.bisect_left(cuts, end)]
        edges = [start, *inner, end]
        pieces.extend((left, right, False) for left, right in itertools.pairwise(edges))

    def gap(start: int, end: int) -> None:
        # A single space after a token is its ``spaces`` flag, unless an entity starts on the
        # space or ends right after it (then the space must be a token of its own).
        if pieces and text[start] == " " and start not in starts and start + 1 not in ends:
            left, right, _ = pieces[-1]
            pieces[-1] = (left, right, True)
            start += 1
        if start < end:
            add(start, end)

    position = 0
    for start, end in tokenize(text):
        if position < start:
            gap(position, start)
        add(start, end)
        position = end
    if position < len(text):
        gap(position, len(text))
    return pieces


def _entity_tags(
    document: Document, pieces: Sequence[tuple[int, int, bool]]
) -> list[tuple[int, int]]:
    """``(ENT_IOB, ENT_TYPE)`` of each piece for the document's spans."""
    tags = [(IOB_OUTSIDE, 0)] * len(pieces)
    first_piece = {start: number for number, (start, _, _) in enumerate(pieces)}
    last_piece = {end: number for number, (_, end, _) in enumerate(pieces)}
    previous_end = 0
    for span in sorted(document.spans, key=lambda span: (span.start, span.end)):
        if span.start < previous_end:
            raise UnrepresentableDocument(
                f"document {document.location!r} cannot be written as a spaCy DocBin: entity "
                f"{span.category!r} [{span.start}, {span.end}) overlaps another; doc.ents "
                "cannot overlap"
            )
        previous_end = span.end
        # _pieces cuts at every span edge, so both lookups succeed.
        first, last = first_piece[span.start], last_piece[span.end]
        type_id = string_id(span.category)
        tags[first] = (IOB_BEGIN, type_id)
        for number in range(first + 1, last + 1):
            tags[number] = (IOB_INSIDE, type_id)
    return tags


def encode(data: LabeledData) -> bytes:
    """The DocBin bytes of ``data`` (what ``DocBin.to_bytes`` would give for these docs)."""
    classification = data.kind.is_classification
    rows: list[tuple[int, int, int]] = []
    spaces: list[bool] = []
    lengths: list[int] = []
    strings: set[str] = set()
    cats: list[dict[str, float]] = []
    user_data: list[bytes] = []
    for document in data.documents:
        spans = () if classification else document.spans
        pieces = _pieces(document.text, spans)
        if classification:
            tags = [(IOB_UNSET, 0)] * len(pieces)
            scores = dict.fromkeys(document.classes, 1.0)
            scores.update({label: 0.0 for label in data.labels if label not in scores})
            cats.append(scores)
        else:
            tags = _entity_tags(document, pieces)
            strings.update(span.category for span in spans)
            cats.append({})
        for (start, end, space), (iob, type_id) in zip(pieces, tags, strict=True):
            word = document.text[start:end]
            strings.add(word)
            rows.append((string_id(word), iob, type_id))
            spaces.append(space)
        lengths.append(len(pieces))
        metadata: dict[str, str] = {"id": document.location}
        if document.dataset is not None:
            metadata["dataset"] = document.dataset.value
        if document.language is not None:
            metadata["language"] = document.language
        user_data.append(msgpack.packb({"lexicraft": metadata}, use_bin_type=True))
    message = {
        "version": VERSION,
        "attrs": [ORTH, ENT_IOB, ENT_TYPE],
        "tokens": np.asarray(rows, dtype="<u8").reshape(len(rows), 3).tobytes("C"),
        "spaces": np.asarray(spaces, dtype=np.bool_).tobytes("C"),
        "lengths": np.asarray(lengths, dtype="<i4").tobytes("C"),
        "strings": sorted(strings),
        "cats": cats,
        "flags": [{"has_unknown_spaces": False}] * len(lengths),
        "span_groups": [_NO_SPAN_GROUPS] * len(lengths),
        "user_data": user_data,
    }
    packed: bytes = msgpack.packb(message, use_bin_type=True)
    return zlib.compress(packed)


def write(data: LabeledData, destination: Path) -> list[Path]:
    """Write ``data`` as a DocBin to ``destination``."""
    content = encode(data)
    destination.parent.mkdir(parents=True, exist_ok=True)
    destination.write_bytes(content)
    return [destination]
