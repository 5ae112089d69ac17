"""Model-folder checksums: written with the folder, extended by a deploy, checked at every use."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lexicraft.ml.cache import PredictorCache
from lexicraft.ml.checksums import (
    CHECKSUMS_FILE,
    ModelDamagedError,
    ModelVerifier,
    VerdictKind,
    file_digest,
    record_additions,
    verify,
    write_checksums,
)


def _model(folder: Path) -> Path:
    (folder / "nested").mkdir(parents=True)
    (folder / "config.json").write_text('{"backend": "x"}', encoding="utf-8")
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (folder / "nested" / "vocab.txt").write_text("a\nb\n", encoding="utf-8")
    return folder


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))


def test_the_manifest_lists_every_file_but_temporaries_and_itself(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    (folder / ".serving.abc.onnx").write_bytes(b"half written")
    write_checksums(folder)
    manifest = json.loads((folder / CHECKSUMS_FILE).read_text(encoding="utf-8"))
    assert manifest["algorithm"] == "sha256"
    assert manifest["files"] == {
        "config.json": file_digest(folder / "config.json"),
        "nested/vocab.txt": file_digest(folder / "nested" / "vocab.txt"),
        "weights.bin": file_digest(folder / "weights.bin"),
    }
    assert not [p for p in folder.iterdir() if p.name.startswith(f".{CHECKSUMS_FILE}")]
    assert verify(folder).kind is VerdictKind.VERIFIED


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda f: _flip_a_byte(f / "weights.bin"), id="changed-bytes"),
        pytest.param(lambda f: (f / "weights.bin").write_bytes(b""), id="truncated"),
        pytest.param(lambda f: (f / "nested" / "vocab.txt").unlink(), id="deleted"),
        pytest.param(lambda f: (f / CHECKSUMS_FILE).write_text("{", "utf-8"), id="bad-manifest"),
        pytest.param(
            lambda f: (f / CHECKSUMS_FILE).write_text(
                json.dumps({"algorithm": "sha256", "files": {"../x": "0"}}), "utf-8"
            ),
            id="manifest-leaves-folder",
        ),
    ],
)
def test_damage_is_found(tmp_path: Path, damage: object) -> None:
    folder = _model(tmp_path / "m")
    write_checksums(folder)
    damage(folder)  # type: ignore[operator]
    verdict = verify(folder)
    assert verdict.kind is VerdictKind.DAMAGED
    assert str(folder) in verdict.problem  # the log says where; clients never see it


def test_a_folder_without_manifest_is_unverified_and_stays_so(tmp_path: Path) -> None:
    """Folders written before checksums load as before; a deploy does not bless their files."""
    folder = _model(tmp_path / "m")
    assert verify(folder).kind is VerdictKind.UNVERIFIED
    (folder / "serving.onnx").write_bytes(b"onnx")
    assert record_additions(folder) is False
    assert not (folder / CHECKSUMS_FILE).exists()
    assert verify(tmp_path / "missing").kind is VerdictKind.ABSENT


def test_a_deploy_adds_its_files_without_rehashing_the_others(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    write_checksums(folder)
    assert record_additions(folder) is False  # nothing new
    _flip_a_byte(folder / "weights.bin")
    (folder / "serving.onnx").write_bytes(b"onnx graph")
    assert record_additions(folder) is True
    listed = json.loads((folder / CHECKSUMS_FILE).read_text(encoding="utf-8"))["files"]
    assert listed["serving.onnx"] == file_digest(folder / "serving.onnx")
    # The damaged weights keep the checksum they were trained with.
    assert verify(folder).kind is VerdictKind.DAMAGED


def test_the_verifier_hashes_only_when_a_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _model(tmp_path / "m")
    write_checksums(folder)
    hashed: list[Path] = []
    original = file_digest

    def counting(path: Path) -> str:
        hashed.append(path)
        return original(path)

    monkeypatch.setattr("lexicraft.ml.checksums.file_digest", counting)
    verifier = ModelVerifier()
    assert verifier.check(folder).kind is VerdictKind.VERIFIED
    first = len(hashed)
    assert first == 3
    for _ in range(5):
        assert verifier.check(folder).kind is VerdictKind.VERIFIED
    assert len(hashed) == first  # unchanged files: stat calls only

    # Same size, same mtime: only the inode tells (a file replaced by a rename).
    weights = folder / "weights.bin"
    stat = weights.stat()
    replacement = folder / "weights.new"
    replacement.write_bytes(weights.read_bytes()[::-1])
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    replacement.replace(weights)
    assert verifier.check(folder).kind is VerdictKind.DAMAGED
    assert len(hashed) > first


def test_the_cache_stops_serving_a_model_damaged_after_it_was_loaded(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    write_checksums(folder)
    cache = PredictorCache(capacity=2)
    loads: list[Path] = []

    def load(path: Path) -> str:
        loads.append(path)
        return "predictor"

    assert cache.get(folder, load) == "predictor"
    assert cache.get(folder, load) == "predictor"
    assert len(loads) == 1

    _flip_a_byte(folder / "weights.bin")
    with pytest.raises(ModelDamagedError, match=r"weights\.bin"):
        cache.get(folder, load)
    with pytest.raises(ModelDamagedError):  # still damaged: no reload, no hashing
        cache.get(folder, load)
    assert len(loads) == 1

    # Restored (e.g. from a backup): served again, loaded afresh.
    _flip_a_byte(folder / "weights.bin")
    assert cache.get(folder, load) == "predictor"
    assert len(loads) == 2
