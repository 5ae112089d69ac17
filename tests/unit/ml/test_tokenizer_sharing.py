"""Models loaded into one process share the tokenizer of their encoder (ml/wordpieces.py)."""

from __future__ import annotations

import gc
import json
import shutil
import weakref
from pathlib import Path

from lexicraft.ml.encoders import minilm_dir
from lexicraft.ml.wordpieces import TOKENIZER_FILE, load_tokenizer


def folder_with(tmp_path: Path, name: str, tokenizer: Path) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copyfile(tokenizer, folder / TOKENIZER_FILE)
    return folder


def test_folders_with_the_same_tokenizer_file_share_one_configured_tokenizer(
    tmp_path: Path,
) -> None:
    packaged = minilm_dir() / TOKENIZER_FILE
    # The packaged file pads and truncates to 128 pieces; a model's tokenizer does neither.
    assert json.loads(packaged.read_text(encoding="utf-8"))["padding"] is not None
    first = load_tokenizer(folder_with(tmp_path, "m1", packaged))
    second = load_tokenizer(folder_with(tmp_path, "m2", packaged))

    assert first is second
    assert first.padding is None and first.truncation is None
    assert len(first.encode(" ".join(["word"] * 300), add_special_tokens=False).ids) == 300


def test_a_different_tokenizer_file_loads_its_own_tokenizer(tmp_path: Path) -> None:
    packaged = minilm_dir() / TOKENIZER_FILE
    cased = json.loads(packaged.read_text(encoding="utf-8"))
    cased["normalizer"]["lowercase"] = False
    (tmp_path / "cased.json").write_text(json.dumps(cased), encoding="utf-8")

    uncased = load_tokenizer(folder_with(tmp_path, "uncased", packaged))
    other = load_tokenizer(folder_with(tmp_path, "cased", tmp_path / "cased.json"))

    assert other is not uncased
    text = "Vienna"
    assert other.encode(text).tokens != uncased.encode(text).tokens


def test_a_tokenizer_no_model_holds_is_freed(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "m1", minilm_dir() / TOKENIZER_FILE)
    # Whatever other tests of this process still hold, a fresh file is a fresh key.
    changed = json.loads((folder / TOKENIZER_FILE).read_text(encoding="utf-8"))
    changed["truncation"] = None
    (folder / TOKENIZER_FILE).write_text(json.dumps(changed), encoding="utf-8")
    held = weakref.ref(load_tokenizer(folder))

    gc.collect()

    assert held() is None
