"""ONNX imports against onnxruntime and torch: exported graphs and hand-built ones."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402

TOL = 1e-5


class LM(torch.nn.Module):
    """Embedding -> LSTM -> Linear, the shape of a typical exported language model."""

    def __init__(self, **kw) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(9, 4)
        self.rnn = torch.nn.LSTM(4, 5, batch_first=True, **kw)
        self.fc = torch.nn.Linear(5 * (2 if kw.get("bidirectional") else 1), 9)

    def forward(self, ids):
        return self.fc(self.rnn(self.emb(ids))[0])


def _export(module, args, path, dynamo: bool, **kw) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), dynamo=dynamo, verbose=False, **kw)


def _ours_vs_torch(res, lm: LM, ids: np.ndarray) -> float:
    """Max abs difference between gatescope's and torch's next-token probabilities."""
    with torch.no_grad():
        want = torch.softmax(lm(torch.from_numpy(ids)[None]), -1)[0].numpy()
    _, probs = res.model.trace_ids(ids)
    return float(np.abs(probs - want).max())


@pytest.mark.parametrize("kw", [dict(num_layers=1), dict(num_layers=2, bidirectional=True), dict(num_layers=3)])
def test_legacy_exporter(tmp_path, kw):
    torch.manual_seed(0)
    lm = LM(**kw).eval()
    path = tmp_path / "lm.onnx"
    _export(lm, (torch.zeros(1, 6, dtype=torch.long),), path, dynamo=False, input_names=["ids"],
            dynamic_axes={"ids": {0: "batch", 1: "time"}})
    res = import_model(path, vocab=list("abcdefghi"))
    assert res.model.input_kind == "embedding" and res.model.decoder_weight is not None
    assert _ours_vs_torch(res, lm, np.array([3, 1, 4, 1, 5, 8, 2, 6])) < TOL
    v = res.verification
    assert v["verified"] and v["passed"] and v["framework"].startswith("onnxruntime")
    assert {"output", "h_n", "c_n"} <= set(v["max_abs_diff"])


def test_dynamo_exporter(tmp_path):
    pytest.importorskip("onnxscript")
    torch.manual_seed(1)
    lm = LM(num_layers=2, bidirectional=True).eval()
    path = tmp_path / "lm.onnx"
    _export(lm, (torch.zeros(1, 6, dtype=torch.long),), path, dynamo=True)
    res = import_model(path)
    assert _ours_vs_torch(res, lm, np.array([0, 8, 2, 7, 1, 1])) < TOL
    assert res.verification["passed"]


@pytest.mark.parametrize("layers", [1, 2])
def test_dynamo_projection_graph_is_refused(tmp_path, layers):
    """torch's dynamo exporter writes proj_size LSTMs as plain LSTMs of size proj_size: a wrong graph."""
    pytest.importorskip("onnxscript")
    lstm = torch.nn.LSTM(3, 5, num_layers=layers, proj_size=2, batch_first=True)
    path = tmp_path / "p.onnx"
    _export(lstm, (torch.zeros(1, 4, 3),), path, dynamo=True)
    with pytest.raises(ModelError, match="proj_size"):
        import_model(path)


def test_legacy_exporter_refuses_projection_itself(tmp_path):
    with pytest.raises(Exception, match="projections"):
        _export(torch.nn.LSTM(3, 5, proj_size=2), (torch.zeros(4, 1, 3),), tmp_path / "p.onnx", dynamo=False)


def _graph(H=4, I=3, D=2, peep=True, node=None, **attrs):
    """One ONNX LSTM node with random W, R, B (and P); X is [T, B, I]."""
    rng = np.random.default_rng(7)
    inits = [numpy_helper.from_array(rng.standard_normal((D, 4 * H, I)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((D, 4 * H, H)).astype(np.float32), "r"),
             numpy_helper.from_array(rng.standard_normal((D, 8 * H)).astype(np.float32), "b")]
    ins = ["x", "w", "r", "b", "", "", ""]
    if peep:
        inits.append(numpy_helper.from_array(rng.standard_normal((D, 3 * H)).astype(np.float32), "p"))
        ins.append("p")
    attrs.setdefault("direction", "bidirectional" if D == 2 else "forward")
    n = node or helper.make_node("LSTM", ins, ["y", "yh", "yc"], hidden_size=H, **attrs)
    g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["t", "b", I])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("y", "yh", "yc")],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


HAND = {
    "peepholes": dict(),
    "peepholes-clip": dict(clip=0.6),
    "input_forget": dict(input_forget=1),
    "input_forget-clip-forward": dict(input_forget=1, clip=0.8, D=1),
    "no-peepholes-hard_sigmoid": dict(peep=False, activations=["HardSigmoid", "Tanh", "Tanh"] * 2,
                                      activation_alpha=[0.3, 0.3], activation_beta=[0.45, 0.45]),
    "affine-scaledtanh": dict(D=1, activations=["Sigmoid", "Affine", "ScaledTanh"], activation_alpha=[0.5, 1.5],
                              activation_beta=[0.1, 0.7]),
    "leakyrelu-softsign": dict(D=1, activations=["Sigmoid", "LeakyRelu", "Softsign"], activation_alpha=[0.2]),
    "relu-softplus": dict(D=1, activations=["Sigmoid", "Relu", "Softplus"]),
    "elu-thresholdedrelu": dict(D=1, activations=["Sigmoid", "Elu", "ThresholdedRelu"], activation_alpha=[0.9, 0.1]),
    "reverse-peepholes": dict(D=1, direction="reverse"),
    "reverse-clip-input_forget": dict(D=1, direction="reverse", clip=0.7, input_forget=1, peep=False),
}


@pytest.mark.parametrize("name", list(HAND))
def test_hand_built_graph_matches_onnxruntime(tmp_path, name):
    kw = dict(HAND[name])
    model = _graph(**kw)
    path = tmp_path / "h.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(3).standard_normal((6, 2, 3)).astype(np.float32)  # [T, B, I]
    y, yh, yc = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    res = import_model(path)
    tr = res.model.lstm.trace(x.transpose(1, 0, 2))
    T, D, B, H = y.shape
    assert np.abs(tr.output - y.transpose(2, 0, 1, 3).reshape(B, T, D * H)).max() < TOL
    assert np.abs(tr.h_n - yh.transpose(1, 0, 2)).max() < TOL
    assert np.abs(tr.c_n - yc.transpose(1, 0, 2)).max() < TOL
    cfg = res.model.lstm.config
    assert cfg.peepholes == kw.get("peep", True)
    assert cfg.input_forget == bool(kw.get("input_forget", 0))
    assert cfg.reverse == (kw.get("direction") == "reverse")
    assert res.verification["passed"]


def test_input_forget_couples_gates():
    """Independent of our code: with input_forget the recorded f is exactly 1 - i, as in onnxruntime."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        onnx.save(_graph(input_forget=1, D=1), str(Path(d) / "g.onnx"))
        tr = import_model(Path(d) / "g.onnx", verify=False).model.lstm.trace(np.ones((4, 3), np.float32))
    np.testing.assert_allclose(tr.f, 1 - tr.i, atol=1e-7)


@pytest.mark.parametrize("case, match", [
    ("gru", "GRU"),
    ("activation", "activations"),
    ("computed", "computed by the graph"),
])
def test_unsupported_graphs(tmp_path, case, match):
    if case == "gru":
        rng = np.random.default_rng(0)
        g = helper.make_graph(
            [helper.make_node("GRU", ["x", "w", "r"], ["y"], hidden_size=2)], "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 1, 2])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(rng.standard_normal((1, 6, 2)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((1, 6, 2)).astype(np.float32), "r")])
        model = helper.make_model(g)
    elif case == "activation":
        model = _graph(D=1, activations=["Sigmoid", "Gelu", "Tanh"])
    else:
        node = helper.make_node("LSTM", ["x", "wx", "r"], ["y"], hidden_size=4)
        model = _graph(D=1, peep=False, node=node)
        model.graph.node.insert(0, helper.make_node("Neg", ["w"], ["wx"]))
    onnx.save(model, str(tmp_path / "u.onnx"))
    with pytest.raises(ModelError, match=match):
        import_model(tmp_path / "u.onnx")


def test_truncated_and_external_data(tmp_path):
    path = tmp_path / "h.onnx"
    onnx.save(_graph(), str(path))
    raw = path.read_bytes()
    (tmp_path / "cut.onnx").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ModelError, match="truncated"):
        import_model(tmp_path / "cut.onnx")
    m = _graph()
    w = m.graph.initializer[0]
    w.data_location = TensorProto.EXTERNAL
    w.ClearField("raw_data")
    w.ClearField("float_data")
    w.external_data.add(key="location", value="../../etc/passwd")
    onnx.save(m, str(tmp_path / "ext.onnx"))
    with pytest.raises(ModelError, match="only a file name beside the model"):
        import_model(tmp_path / "ext.onnx")
