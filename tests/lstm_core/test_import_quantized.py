"""onnxruntime's quantize_dynamic (int8 DynamicQuantizeLSTM) of a torch-exported LSTM, against onnxruntime itself."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import QuantType, quantize_dynamic  # noqa: E402

from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402
from lstm_core.importers.onnx_import import QUANTIZED_TOLERANCE  # noqa: E402


class LM(torch.nn.Module):
    def __init__(self, bidirectional: bool) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(9, 8)
        self.rnn = torch.nn.LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(16 * (1 + bidirectional), 9)

    def forward(self, ids):
        return self.fc(self.rnn(self.emb(ids))[0])


@pytest.fixture(scope="module", params=[(False, False, True), (True, False, True), (False, True, True),
                                        (False, False, False)],
                ids=["per-tensor", "per-channel", "per-tensor-bidirectional", "default-no-reduce-range"])
def quantized(request, tmp_path_factory):
    """(torch model, float .onnx, int8 .onnx, reduce_range) with per-tensor or per-channel weight scales."""
    per_channel, bidirectional, reduce_range = request.param
    torch.manual_seed(0)
    lm = LM(bidirectional).eval()
    d = tmp_path_factory.mktemp("q")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(lm, (torch.zeros(1, 6, dtype=torch.long),), str(d / "f.onnx"), dynamo=False,
                          input_names=["ids"], dynamic_axes={"ids": {0: "batch", 1: "time"}})
        quantize_dynamic(str(d / "f.onnx"), str(d / "q.onnx"), per_channel=per_channel, reduce_range=reduce_range,
                         weight_type=QuantType.QInt8)
    assert any(n.op_type == "DynamicQuantizeLSTM" for n in onnx.load(str(d / "q.onnx")).graph.node)
    return lm, d / "f.onnx", d / "q.onnx", reduce_range


def test_quantized_lstm_matches_onnxruntime(quantized):
    """Exact against onnxruntime's float LSTM holding the dequantized weights; int8 within its bound."""
    lm, _, q, reduce_range = quantized
    res = import_model(q)
    v = res.verification
    assert v["verified"] and v["framework"].startswith("onnxruntime") and v["tolerance"] == 1e-5
    assert {"output", "h_n", "c_n"} <= set(v["max_abs_diff"]) and v["passed"], v["max_abs_diff"]
    q8 = v["int8"]
    assert q8["tolerance"] == QUANTIZED_TOLERANCE and q8["max"] > 1e-6  # the int8 kernel really rounds
    card = res.model.meta["card"]
    assert "at every step" in card and f"{q8['max']:.2e}" in card and "DynamicQuantizeLSTM" in card
    if reduce_range:
        assert q8["within"], q8  # what activation rounding explains
    print(f"\nint8 {q.parent.name} reduce_range={reduce_range}: float twin {v['max']:.2e}, int8 {q8['max']:.3e} "
          f"{ {k: round(d, 4) for k, d in q8['max_abs_diff'].items()} }")


def test_onnxruntime_int8_kernel_departs_without_reduce_range(quantized):
    """Why the int8 figure is reported, not required: onnxruntime's own int8 vs float graph, without gatescope."""
    _, f, q, reduce_range = quantized
    ids = np.random.default_rng(0).integers(0, 9, (7, 7))
    run = {p: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
           for p in (f, q)}
    gap = float(np.abs(run[f] - run[q]).max())  # logits
    assert gap > 0 and (not reduce_range or gap < QUANTIZED_TOLERANCE)


def test_dequantized_weights_are_the_float_weights_within_half_a_step(quantized):
    """Independent of onnxruntime: each dequantized weight is torch's own within half its quantization step."""
    lm, _, q, reduce_range = quantized
    ours = import_model(q, verify=False).model.lstm.to_torch_state_dict()
    for name, w in lm.rnn.state_dict().items():
        if name.startswith("weight"):
            w = w.numpy()
            # symmetric int8 (7 bits with reduce_range): the coarsest, per-tensor step of this tensor
            step = np.abs(w).max() / (63 if reduce_range else 127)
            assert np.abs(ours[name] - w).max() <= step / 2 + 1e-6, name


def test_embedding_is_dequantized_too(quantized):
    lm, _, q, _ = quantized
    res = import_model(q, vocab=list("abcdefghi"))
    assert res.model.input_kind == "embedding"
    table = lm.emb.weight.detach().numpy()
    assert np.abs(res.model.embedding - table).max() <= (table.max() - table.min()) / 255  # uint8 step


def test_float_graph_stays_exact(quantized):
    """The same model before quantization still verifies at 1e-5: the wider tolerance is for int8 only."""
    _, f, _, _ = quantized
    v = import_model(f).verification
    assert v["passed"] and v["tolerance"] == 1e-5


@pytest.mark.parametrize("op", ["GRU", "RNN", "Scan", "Loop"])
def test_other_recurrent_ops_are_named(tmp_path, op):
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((1, 6, 2)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((1, 6, 2)).astype(np.float32), "r")]
    node = helper.make_node(op, ["x", "w", "r"], ["y"], hidden_size=2) if op in ("GRU", "RNN") else \
        helper.make_node(op, ["x"], ["y"])  # a Scan or Loop node: its body does not matter, its presence does
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    path = tmp_path / "r.onnx"
    onnx.save(helper.make_model(g), str(path))
    with pytest.raises(ModelError, match=f"the graph has {op} node") as e:
        import_model(path)
    assert "no LSTM node" not in str(e.value)
