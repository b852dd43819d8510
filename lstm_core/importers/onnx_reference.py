"""Run an imported ONNX graph in onnxruntime with every LSTM node's X, Y, Y_h and Y_c exposed as outputs.

A copy of the graph is changed only in ways that keep its numbers: omitted optional outputs get names
(so whatever the node computes is compared, not only what the file kept), and, because onnxruntime
refuses `layout=1`, such nodes become layout=0 nodes between Transposes of their inputs and outputs.
Graph inputs are fed what the user supplied, random ids or features otherwise, and a sequence_lens
input ragged lengths, so that padding is checked too.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError

OUTPUTS = ("Y", "Y_h", "Y_c")
DYNAMIC = 7  # the size given to every dynamic dimension the supplied values do not fix


def run_reference(ref: dict, ort, float_twin: bool = False) -> dict:
    """{"output" (B, T, D*H), "h_n"/"c_n" (B, L*D, H), "_x" (B, T, in), "_lengths" (B,) or None}.

    float_twin: DynamicQuantizeLSTM nodes become float LSTM nodes holding the dequantized weights.
    """
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(ref["model"])
    nodes = [n for n in m.graph.node if n.op_type in ("LSTM", "DynamicQuantizeLSTM")]
    if float_twin:
        _dequantized_lstm_nodes(m, nodes, ref["float_twin"], onnx)
    for k, n in enumerate(nodes):
        n.output.extend([""] * (3 - len(n.output)))
        for j, role in enumerate(OUTPUTS):
            n.output[j] = n.output[j] or f"gatescope_lstm{k}_{role}"
    names = [(n.input[0], *n.output[:3]) for n in nodes]
    if ref["layout"]:
        _to_layout0(m, onnx)
    have = {o.name for o in m.graph.output}
    for v in dict.fromkeys([names[0][0]] + [v for n in names for v in n[1:]]):
        if v not in have:
            m.graph.output.append(onnx.ValueInfoProto(name=v))
    try:
        ort.set_default_logger_severity(4)  # a graph it refuses is reported in the record, not the console
        opts = ort.SessionOptions()
        opts.log_severity_level = 4
        sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        feeds, lengths = _feeds(sess, ref)
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds), strict=True))
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelError(f"onnxruntime could not run the graph: {str(e).strip().splitlines()[0][:300]}") from None
    layout = ref["layout"]
    x = got[names[0][0]]
    x = x if layout else x.transpose(1, 0, 2)  # (B, T, in)
    y = got[names[-1][1]]
    y = y if layout else y.transpose(2, 0, 1, 3)  # (B, T, D, H)

    def states(j: int) -> np.ndarray:
        parts = [got[n[j]] if layout else got[n[j]].transpose(1, 0, 2) for n in names]  # (B, D, H) each
        return np.concatenate(parts, axis=1)  # (B, L*D, H)

    return {"output": y.reshape(y.shape[0], y.shape[1], -1), "h_n": states(2), "c_n": states(3), "_x": x,
            "_lengths": lengths}


def _feeds(sess, ref: dict) -> tuple[dict, np.ndarray | None]:
    """Values for every graph input: the supplied ones, ragged lengths for sequence_lens, random otherwise."""
    supplied, seq = ref["supplied"], ref.get("sequence_lens")
    bound: dict[str, int] = dict(ref.get("bind", {}))  # symbolic dimension -> size, fixed by stored or supplied arrays
    for i in sess.get_inputs():
        if i.name in supplied:
            for d, size in zip(i.shape, np.shape(supplied[i.name]), strict=False):
                if isinstance(d, str):
                    bound.setdefault(d, size)
    rng, feeds, lengths = np.random.default_rng(0), {}, None
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) and d > 0 else bound.get(d, DYNAMIC) for d in i.shape]
        dtype = np.int64 if "int64" in i.type else np.int32 if "int" in i.type else \
            np.float64 if "double" in i.type else np.float32
        if i.name in supplied:
            feeds[i.name] = np.asarray(supplied[i.name]).astype(dtype)
        elif i.name == seq:
            # Ragged: the first sequence runs every step, the others stop early (ONNX: 1 <= length <= T).
            lengths = np.maximum(DYNAMIC - 2 * np.arange(shape[0]), 1).astype(dtype)
            feeds[i.name] = lengths
        elif np.issubdtype(dtype, np.integer):
            feeds[i.name] = rng.integers(0, ref["vocab_rows"] or 2, shape).astype(dtype)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(dtype)
    return feeds, lengths


def _dequantized_lstm_nodes(m, nodes, weights: dict, onnx) -> None:
    """Replace each DynamicQuantizeLSTM by the standard LSTM with float W [D, 4H, in], R [D, 4H, H]."""
    for k, (W, R) in weights.items():
        n = nodes[k]
        names = [f"gatescope_dequantized_{k}_{r}" for r in "WR"]
        m.graph.initializer.extend(onnx.numpy_helper.from_array(a, nm) for a, nm in zip((W, R), names, strict=True))
        ins = list(n.input[:8])
        ins[1:3] = names
        del n.input[:]
        n.input.extend(ins)
        n.op_type, n.domain = "LSTM", ""


def _to_layout0(m, onnx) -> None:
    """Rewrite every layout=1 LSTM node as layout=0 between Transposes, keeping every value's name and shape."""
    helper, out = onnx.helper, []
    for k, n in enumerate(m.graph.node):
        at = {a.name: a for a in n.attribute}
        if n.op_type != "LSTM" or "layout" not in at or helper.get_attribute_value(at["layout"]) != 1:
            out.append(n)
            continue
        at["layout"].i = 0
        # X [B, T, in] -> [T, B, in]; initial_h/c [B, D, H] -> [D, B, H]
        for j in (0, 5, 6):
            if len(n.input) > j and n.input[j]:
                t = f"gatescope_layout0_{k}_in{j}"
                out.append(helper.make_node("Transpose", [n.input[j]], [t], perm=[1, 0, 2]))
                n.input[j] = t
        post = []
        for j, perm in ((0, [2, 0, 1, 3]), (1, [1, 0, 2]), (2, [1, 0, 2])):  # Y [T, D, B, H] -> [B, T, D, H]
            if len(n.output) > j and n.output[j]:
                t = f"gatescope_layout0_{k}_out{j}"
                post.append(helper.make_node("Transpose", [t], [n.output[j]], perm=perm))
                n.output[j] = t
        out += [n, *post]
    del m.graph.node[:]
    m.graph.node.extend(out)
