"""The loaded-model cache: bounded by count and by the estimated bytes of the models' files."""

from __future__ import annotations

import gc
import logging
import threading
import weakref
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from lexicraft.ml import cache as cache_module
from lexicraft.ml.cache import (
    ALTERNATIVE_NETWORK_FILES,
    RESIDENT_BYTES_PER_FILE_BYTE,
    PredictorCache,
    model_footprint,
)
from lexicraft.telemetry.metrics import (
    MODEL_CACHE_EVICTIONS,
    MODEL_CACHE_LOADS,
    MODEL_LOAD_SECONDS,
    MODEL_LOADED_BYTES,
)

KIB = 1024


class FakePredictor:
    """A loaded model: remembers its folder, predicts its folder's name for each text."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def predict(self, texts: list[str]) -> list[str]:
        return [self.folder.name for _ in texts]


def model_folder(root: Path, name: str, kib: int) -> Path:
    """A model folder whose one file holds ``kib`` KiB."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\0" * (kib * KIB))
    return folder


def size(kib: int) -> int:
    return round(kib * KIB * RESIDENT_BYTES_PER_FILE_BYTE)


class Loads:
    """A loader that counts its loads per folder."""

    def __init__(self) -> None:
        self.folders: list[str] = []

    def __call__(self, folder: Path) -> FakePredictor:
        self.folders.append(folder.name)
        return FakePredictor(folder)


def names(cache: PredictorCache) -> list[str]:
    return [Path(key).name for key in cache.loaded()]


def metric(name: str) -> float:
    registry = CollectorRegistry()
    for collector in (
        MODEL_CACHE_LOADS,
        MODEL_CACHE_EVICTIONS,
        MODEL_LOAD_SECONDS,
        MODEL_LOADED_BYTES,
    ):
        registry.register(collector)
    value = registry.get_sample_value(name)
    assert value is not None, name
    return value


def test_the_footprint_is_the_bytes_of_the_files_with_a_network_counted_once(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "m"
    (folder / "intents").mkdir(parents=True)
    (folder / "config.json").write_bytes(b"x" * 100)
    (folder / "intents" / "weights.npz").write_bytes(b"x" * 3000)
    assert model_footprint(folder) == round(3100 * RESIDENT_BYTES_PER_FILE_BYTE)

    # A deployed encoder: its weights and the same network as ONNX; one of them is loaded.
    weights, onnx, quantized = ALTERNATIVE_NETWORK_FILES
    (folder / weights).write_bytes(b"x" * 50_000)
    (folder / onnx).write_bytes(b"x" * 51_000)
    (folder / quantized).write_bytes(b"x" * 20_000)
    assert model_footprint(folder) == round((3100 + 51_000) * RESIDENT_BYTES_PER_FILE_BYTE)


def test_the_alternative_network_files_are_the_backends_names() -> None:
    from lexicraft.ml.finetune import WEIGHTS_FILE
    from lexicraft.ml.serving import SERVING_FILE, SERVING_INT8_FILE

    assert ALTERNATIVE_NETWORK_FILES == (WEIGHTS_FILE, SERVING_FILE, SERVING_INT8_FILE)


def test_least_recently_used_models_are_dropped_until_the_loaded_ones_fit(
    tmp_path: Path,
) -> None:
    a, b, c, d = (model_folder(tmp_path, name, 40) for name in "abcd")
    cache = PredictorCache(capacity=10, budget_bytes=size(100))  # room for two
    loads = Loads()
    cache.get(a, loads)
    cache.get(b, loads)
    assert names(cache) == ["a", "b"]
    assert cache.get(a, loads).folder == a  # a hit: a is now the most recently used
    cache.get(c, loads)
    assert names(cache) == ["a", "c"]  # b, the least recently used, went
    assert cache.loaded_bytes == 2 * size(40) <= cache.budget_bytes
    cache.get(d, loads)
    assert names(cache) == ["c", "d"]
    # A dropped model loads again, transparently, on its next use.
    assert cache.get(b, loads).folder == b
    assert loads.folders == ["a", "b", "c", "d", "b"]
    assert cache.loaded_bytes <= cache.budget_bytes


def test_a_bigger_model_drops_as_many_as_it_needs(tmp_path: Path) -> None:
    small = [model_folder(tmp_path, name, 20) for name in "abcd"]
    big = model_folder(tmp_path, "big", 70)
    cache = PredictorCache(capacity=10, budget_bytes=size(100))
    loads = Loads()
    for folder in small:
        cache.get(folder, loads)
    assert names(cache) == ["a", "b", "c", "d"]
    cache.get(big, loads)
    assert names(cache) == ["d", "big"]
    assert cache.loaded_bytes == size(90)


def test_the_count_still_bounds_small_models(tmp_path: Path) -> None:
    folders = [model_folder(tmp_path, name, 1) for name in "abc"]
    cache = PredictorCache(capacity=2, budget_bytes=size(1000))
    loads = Loads()
    for folder in folders:
        cache.get(folder, loads)
    assert names(cache) == ["b", "c"]


def test_no_budget_bounds_only_the_count(tmp_path: Path) -> None:
    folders = [model_folder(tmp_path, name, 500) for name in "abc"]
    cache = PredictorCache(capacity=3, budget_bytes=0)
    loads = Loads()
    for folder in folders:
        cache.get(folder, loads)
    assert names(cache) == ["a", "b", "c"]


def test_a_model_over_the_whole_budget_is_served_alone_and_dropped_first(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = model_folder(tmp_path, "a", 30), model_folder(tmp_path, "b", 30)
    huge = model_folder(tmp_path, "huge", 150)
    cache = PredictorCache(capacity=10, budget_bytes=size(100))
    loads = Loads()
    cache.get(a, loads)
    cache.get(b, loads)
    with caplog.at_level(logging.WARNING, logger=cache_module.__name__):
        predictor = cache.get(huge, loads)
    assert predictor.predict(["text"]) == ["huge"]
    assert names(cache) == ["huge"]
    assert "more than the whole model memory budget" in caplog.text
    assert "model_memory_budget_mb" in caplog.text
    # Served from memory while it is the one model used.
    assert cache.get(huge, loads) is predictor
    assert loads.folders == ["a", "b", "huge"]
    # Another model: the oversized one goes, however recently it was used.
    cache.get(a, loads)
    assert names(cache) == ["a"]


def test_a_dropped_model_is_freed_only_after_its_running_prediction(tmp_path: Path) -> None:
    a, b = model_folder(tmp_path, "a", 60), model_folder(tmp_path, "b", 60)
    cache = PredictorCache(capacity=10, budget_bytes=size(100))
    loads = Loads()
    predicting = threading.Event()
    release = threading.Event()
    results: list[list[str]] = []

    class SlowPredictor(FakePredictor):
        def predict(self, texts: list[str]) -> list[str]:
            predicting.set()
            release.wait(10)
            return super().predict(texts)

    predictor = cache.get(a, SlowPredictor)
    alive = weakref.ref(predictor)
    # A job thread holds the predictor it got from the cache, as LocalCompute.predict does.
    job = threading.Thread(target=lambda model=predictor: results.append(model.predict(["x"])))
    del predictor
    job.start()
    assert predicting.wait(10)
    cache.get(b, loads)  # drops a from the cache while it predicts
    assert names(cache) == ["b"]
    gc.collect()
    assert alive() is not None  # not freed under the running prediction
    release.set()
    job.join(10)
    assert results == [["a"]]
    gc.collect()
    assert alive() is None  # freed once its last prediction ended


def test_loads_evictions_load_time_and_loaded_bytes_are_measured(tmp_path: Path) -> None:
    a, b = model_folder(tmp_path, "a", 60), model_folder(tmp_path, "b", 60)
    loads_before = metric("lexicraft_model_cache_loads_total")
    evictions_before = metric("lexicraft_model_cache_evictions_total")
    timed_before = metric("lexicraft_model_load_seconds_count")
    seconds_before = metric("lexicraft_model_load_seconds_sum")
    bytes_before = metric("lexicraft_model_loaded_bytes")

    def slow_load(folder: Path) -> FakePredictor:
        threading.Event().wait(0.05)
        return FakePredictor(folder)

    cache = PredictorCache(capacity=10, budget_bytes=size(100))
    cache.get(a, slow_load)
    assert metric("lexicraft_model_loaded_bytes") - bytes_before == size(60)
    cache.get(a, slow_load)  # a hit: no load
    cache.get(b, slow_load)
    cache.get(a, slow_load)
    assert metric("lexicraft_model_cache_loads_total") - loads_before == 3
    assert metric("lexicraft_model_cache_evictions_total") - evictions_before == 2
    assert metric("lexicraft_model_load_seconds_count") - timed_before == 3
    assert metric("lexicraft_model_load_seconds_sum") - seconds_before >= 3 * 0.05
    assert metric("lexicraft_model_loaded_bytes") - bytes_before == size(60)
    cache.discard(a)
    assert metric("lexicraft_model_loaded_bytes") - bytes_before == 0
