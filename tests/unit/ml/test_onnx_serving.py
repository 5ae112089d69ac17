"""The serving graph of an encoder: ONNX Runtime's fused transformer operators, the same
logits as PyTorch, and an int8 copy whose matrix products (fused attention included) are
quantized."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from lexicraft.ml import onnx_serving
from lexicraft.ml.finetune import MINILM, pretrained_encoder
from lexicraft.ml.ner.tagger_network import Tagger

LAYERS = 6  # all-MiniLM-L6-v2


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path, Path]:
    encoder, _, _ = pretrained_encoder(MINILM)
    torch.manual_seed(0)
    tagger = Tagger(encoder, 9).eval()
    folder = tmp_path_factory.mktemp("graphs")
    fp32, int8 = folder / "serving.onnx", folder / "serving.int8.onnx"
    onnx_serving.write_onnx(tagger, fp32)
    onnx_serving.quantize(fp32, int8)
    return tagger, fp32, int8


def operators(path: Path) -> Counter[str]:
    return Counter(node.op_type for node in onnx.load(str(path)).graph.node)


def test_every_layer_runs_fused_attention_layer_norms_and_gelu(
    graphs: tuple[torch.nn.Module, Path, Path],
) -> None:
    found = operators(graphs[1])
    assert found["Attention"] == LAYERS
    assert found["SkipLayerNormalization"] == 2 * LAYERS
    assert found["BiasGelu"] == LAYERS
    assert found["Softmax"] == 0  # inside the fused attention


def test_the_int8_graph_quantizes_fused_attention_and_matrix_products(
    graphs: tuple[torch.nn.Module, Path, Path],
) -> None:
    found = operators(graphs[2])
    assert found["QAttention"] == LAYERS
    assert found["Attention"] == 0
    # Per layer: attention output, FFN in and out; then the classifier.
    assert found["MatMulInteger"] == 3 * LAYERS + 1


@pytest.mark.parametrize("shape", [(1, 5), (3, 40), (16, 130)])
def test_the_graph_gives_pytorchs_logits_at_any_batch_and_length(
    graphs: tuple[torch.nn.Module, Path, Path], shape: tuple[int, int]
) -> None:
    tagger, fp32, _ = graphs
    generator = np.random.default_rng(sum(shape))
    ids = generator.integers(1000, 20000, size=shape)
    cases = generator.integers(0, 5, size=shape)
    mask = np.ones(shape, dtype=np.int64)
    mask[0, shape[1] // 2 + 1 :] = 0  # a padded window: attention must ignore its padding
    session = onnxruntime.InferenceSession(str(fp32), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"ids": ids, "cases": cases, "mask": mask})
    with torch.no_grad():
        expected = tagger(*(torch.from_numpy(array) for array in (ids, cases, mask))).numpy()
    real = mask.astype(bool)
    np.testing.assert_allclose(logits[real], expected[real], atol=1e-4)


def test_writing_a_graph_logs_nothing_of_onnx_runtimes_tools(
    graphs: tuple[torch.nn.Module, Path, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The optimizer's and quantizer's module loggers warn about their own internals (the
    # optimizer, with shape inference off, that it is disabled): not the user's concern.
    tagger, _, _ = graphs
    with caplog.at_level(logging.DEBUG):
        onnx_serving.write_onnx(tagger, tmp_path / "serving.onnx")
        onnx_serving.quantize(tmp_path / "serving.onnx", tmp_path / "serving.int8.onnx")

    assert [r.getMessage() for r in caplog.records if "onnxruntime" in r.pathname] == []
    # The filters are gone afterwards: the process's own logging is untouched.
    assert not logging.getLogger().filters
    assert all(not handler.filters for handler in logging.getLogger().handlers)
