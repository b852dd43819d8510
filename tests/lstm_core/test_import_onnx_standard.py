"""ONNX LSTM nodes as the standard allows them, each checked against onnxruntime on the file itself.

Omitted optional outputs, weights and initial states from Constant nodes or graph inputs (supplied by
the user or refused with a sentence), layout=1 and sequence_lens.
"""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from app.commands import main  # noqa: E402
from lstm_core import ModelError  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402

TOL = 1e-5
H, I = 4, 3
RNG = np.random.default_rng(11)
W = RNG.standard_normal((1, 4 * H, I)).astype(np.float32)
R = RNG.standard_normal((1, 4 * H, H)).astype(np.float32)
B = RNG.standard_normal((1, 8 * H)).astype(np.float32)


def _model(outputs, ins=("x", "w", "r", "b"), inits=None, extra_inputs=(), nodes=(), layout=0, x_shape=None):
    """One LSTM node with the given output names ('' = omitted); W, R, B stored unless told otherwise."""
    inits = [numpy_helper.from_array(W, "w"), numpy_helper.from_array(R, "r"),
             numpy_helper.from_array(B, "b")] if inits is None else inits
    node = helper.make_node("LSTM", list(ins), list(outputs), hidden_size=H, **({"layout": 1} if layout else {}))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape or (["b", "t", I] if layout else ["t", "b", I]))
    g = helper.make_graph([*nodes, node], "g", [x, *extra_inputs],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs if o], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])


def _save(model, tmp_path, name="g.onnx"):
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _ort(path, feeds):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds), strict=True))


X = np.random.default_rng(3).standard_normal((6, 2, I)).astype(np.float32)  # [T, B, I]


def _check_against(tr, got, names, layout=0):
    """Compare a gatescope trace (B, T, ...) with whatever onnxruntime exposed under `names` (Y, Y_h, Y_c)."""
    y, yh, yc = names
    if y:
        want = got[y] if layout else got[y].transpose(2, 0, 1, 3)  # (B, T, D, H)
        assert np.abs(tr.output - want.reshape(tr.output.shape)).max() < TOL
    for name, ours in ((yh, tr.h_n), (yc, tr.c_n)):
        if name:
            want = got[name] if layout else got[name].transpose(1, 0, 2)  # (B, D, H)
            assert np.abs(ours - want).max() < TOL


@pytest.mark.parametrize("outputs", [("", "yh", "yc"), ("y", "", "yc"), ("y", "yh", ""), ("", "yh", ""),
                                     ("", "", "yc"), ("y",), ("y", "yh")])
def test_each_optional_output_may_be_omitted(tmp_path, outputs):
    path = _save(_model(outputs), tmp_path)
    got = _ort(path, {"x": X})
    res = import_model(path)
    _check_against(res.model.lstm.trace(X.transpose(1, 0, 2)), got, (*outputs, "", "")[:3])
    v = res.verification
    assert v["passed"] and {"output", "h_n", "c_n"} <= set(v["max_abs_diff"]), v  # every output compared


def test_two_layers_whose_outputs_are_partly_omitted(tmp_path):
    second = helper.make_node("Squeeze", ["y1", "axes"], ["y1s"])
    n2 = helper.make_node("LSTM", ["y1s", "w2", "r2"], ["", "yh2"], hidden_size=H)
    m = _model(("y1",), nodes=())
    w2 = RNG.standard_normal((1, 4 * H, H)).astype(np.float32)
    m.graph.initializer.extend([numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(R * 0.5, "r2"),
                                numpy_helper.from_array(np.array([1], np.int64), "axes")])
    m.graph.node.extend([second, n2])
    m.graph.output.append(helper.make_tensor_value_info("yh2", TensorProto.FLOAT, None))
    path = _save(m, tmp_path)
    got = _ort(path, {"x": X})
    res = import_model(path)
    tr = res.model.lstm.trace(X.transpose(1, 0, 2))
    assert res.model.lstm.config.num_layers == 2
    assert np.abs(tr.h_n[:, 1] - got["yh2"][0]).max() < TOL and res.verification["passed"]


def test_weights_and_zero_states_from_constant_nodes(tmp_path):
    consts = [helper.make_node("Constant", [], [n], value=numpy_helper.from_array(a, n + "_v"))
              for n, a in (("wc", W), ("rc", R), ("h0", np.zeros((1, 2, H), np.float32)))]
    path = _save(_model(("y", "yh", "yc"), ins=("x", "wc", "rc", "b", "", "h0", "h0"), nodes=consts), tmp_path)
    got = _ort(path, {"x": X})
    res = import_model(path)
    _check_against(res.model.lstm.trace(X.transpose(1, 0, 2)), got, ("y", "yh", "yc"))
    assert res.verification["passed"]


def _graph_input_weights(tmp_path):
    extra = [helper.make_tensor_value_info("W_in", TensorProto.FLOAT, [1, 4 * H, I])]
    inits = [numpy_helper.from_array(R, "r"), numpy_helper.from_array(B, "b")]
    return _save(_model(("y", "yh", "yc"), ins=("x", "W_in", "r", "b"), inits=inits, extra_inputs=extra), tmp_path)


def test_weights_from_a_graph_input_need_a_value(tmp_path):
    path = _graph_input_weights(tmp_path)
    with pytest.raises(ModelError, match=r"W comes from the graph input 'W_in'.*--onnx-input W_in="):
        import_model(path)
    got = _ort(path, {"x": X, "W_in": W})
    res = import_model(path, onnx_inputs={"W_in": W})
    _check_against(res.model.lstm.trace(X.transpose(1, 0, 2)), got, ("y", "yh", "yc"))
    assert res.verification["passed"]
    with pytest.raises(ModelError, match="'nope' is not an input of the graph"):
        import_model(path, onnx_inputs={"W_in": W, "nope": W})


def test_cli_supplies_a_graph_input_from_npy(tmp_path, capsys):
    path = _graph_input_weights(tmp_path)
    np.save(tmp_path / "w.npy", W)
    out = tmp_path / "m.safetensors"
    assert main(["import", str(path), "--out", str(out), "--onnx-input", f"W_in={tmp_path / 'w.npy'}"]) == 0
    assert "verified against onnxruntime" in capsys.readouterr().out
    assert main(["import", str(path), "--out", str(tmp_path / "n.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "W_in" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_initial_states_from_graph_inputs(tmp_path):
    extra = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, "b", H]) for n in ("h0", "c0")]
    path = _save(_model(("y", "yh", "yc"), ins=("x", "w", "r", "b", "", "h0", "c0"), extra_inputs=extra), tmp_path)
    with pytest.raises(ModelError, match="initial_h comes from the graph input 'h0'"):
        import_model(path)
    zeros = np.zeros((1, 2, H), np.float32)
    res = import_model(path, onnx_inputs={"h0": zeros, "c0": zeros})
    got = _ort(path, {"x": X, "h0": zeros, "c0": zeros})
    _check_against(res.model.lstm.trace(X.transpose(1, 0, 2)), got, ("y", "yh", "yc"))
    assert res.verification["passed"] and res.verification["probe"]["batch"] == 2  # batch fixed by the value
    with pytest.raises(ModelError, match="not a zero tensor"):
        import_model(path, onnx_inputs={"h0": zeros + 1, "c0": zeros})


def test_layout_1_is_verified_through_an_equivalent_layout_0_graph(tmp_path):
    path = _save(_model(("y", "yh", "yc"), layout=1), tmp_path)
    with pytest.raises(Exception, match="layout"):  # the reason for the rewrite: onnxruntime refuses layout=1
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    res = import_model(path)
    v = res.verification
    assert v["passed"] and v["max"] < TOL and any("layout=0" in c for c in v["caveats"])
    assert "layout=0" in res.model.meta["card"]
    # Independently of the importer's rewrite: the same weights in a layout=0 graph, fed the transposed input.
    ref = _ort(_save(_model(("y", "yh", "yc")), tmp_path, "l0.onnx"), {"x": X})
    _check_against(res.model.lstm.trace(X.transpose(1, 0, 2)), ref, ("y", "yh", "yc"))


def test_sequence_lens_graph_input_is_honoured(tmp_path):
    extra = [helper.make_tensor_value_info("lens", TensorProto.INT32, ["b"])]
    path = _save(_model(("y", "yh", "yc"), ins=("x", "w", "r", "b", "lens"), extra_inputs=extra), tmp_path)
    res = import_model(path)
    v = res.verification
    assert v["passed"] and len(set(v["probe"]["lengths"])) > 1  # ragged lengths were compared
    got = _ort(path, {"x": X, "lens": np.array([6, 3], np.int32)})
    _check_against(res.model.lstm.trace(X.transpose(1, 0, 2), lengths=[6, 3]), got, ("y", "yh", "yc"))
    assert any("sequence_lens" in n for n in res.notes)


def test_stored_sequence_lens_is_refused(tmp_path):
    inits = [numpy_helper.from_array(a, n) for n, a in (("w", W), ("r", R), ("b", B),
                                                        ("lens", np.array([6, 3], np.int32)))]
    path = _save(_model(("y",), ins=("x", "w", "r", "b", "lens"), inits=inits), tmp_path)
    with pytest.raises(ModelError, match=r"sequence_lens is fixed to \[6, 3\]"):
        import_model(path)
