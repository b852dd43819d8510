"""ONNX graphs: every `LSTM` node is a layer, in graph order; weights come from the node's inputs.

Initializer names mean nothing (exporters write `onnx::LSTM_378`), so W, R, B and P are looked up
by the node's input names in the initializers, Constant nodes and Identity chains. ONNX layout:
W [D, 4H, in], R [D, 4H, H], B [D, 8H] = [Wb | Rb], P [D, 3H]; gate rows i|o|f|c, peepholes i|o|f.
Converted here to torch's i|f|g|o (blocks 0, 2, 3, 1) and peephole rows i|f|o; direction 0 is the
forward one. `clip`, `input_forget` and the activation attributes go to the LSTM config.
direction="reverse" becomes an LSTM with `reverse=True` (one right-to-left direction; index t is still
input position t). Not supported, with a sentence saying so: layers that differ in size, direction or
activations, weights computed by the graph, external data files (their paths would be read from
the file), GRU and RNN nodes.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..activations import Activation
from ..errors import ModelError
from ..lstm import LSTM
from .onnx_graph import GLUE, Graph
from .parts import MAX_FILE_BYTES, Parts, unify_dtype

_ORDER = [0, 2, 3, 1]  # ONNX i|o|f|c blocks -> torch i|f|g|o
# ONNX activation -> (gatescope name, needs alpha, needs beta, default alpha, default beta), as onnxruntime reads them.
_ACTS = {
    "sigmoid": ("sigmoid", False, False, 0.0, 0.0), "tanh": ("tanh", False, False, 0.0, 0.0),
    "relu": ("relu", False, False, 0.0, 0.0), "softsign": ("softsign", False, False, 0.0, 0.0),
    "softplus": ("softplus", False, False, 0.0, 0.0), "affine": ("affine", True, True, 0.0, 0.0),
    "leakyrelu": ("leaky_relu", True, False, 0.01, 0.0), "thresholdedrelu": ("thresholded_relu", True, False, 0.0, 0.0),
    "scaledtanh": ("scaled_tanh", True, True, 0.0, 0.0), "hardsigmoid": ("hard_sigmoid", True, True, 0.2, 0.5),
    "elu": ("elu", True, False, 1.0, 0.0),
}


def read(path: Path, source: dict) -> Parts:
    try:
        import onnx
    except ImportError:
        raise ModelError("reading ONNX files needs the onnx package (pip install onnx)") from None
    try:
        # External data names paths inside the file: never followed by onnx, see _external below.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and friends for truncated or foreign files
        raise ModelError(f"{path.name} is not a readable ONNX model ({type(e).__name__}); "
                         "it may be truncated") from None
    _external(model, path.parent, onnx)
    g = Graph(model.graph, onnx)
    nodes = [n for n in model.graph.node if n.op_type == "LSTM"]
    others = sorted({n.op_type for n in model.graph.node if n.op_type in ("GRU", "RNN", "Scan", "Loop")})
    if others:
        raise ModelError(f"the graph has {', '.join(others)} node(s); gatescope imports LSTM nodes only")
    if not nodes:
        raise ModelError(f"{path.name} has no LSTM node; gatescope imports LSTM layers")
    _refuse_dynamo_projection(nodes)
    specs = [_node_spec(n, g) for n in nodes]
    first = specs[0]
    for k, s in enumerate(specs[1:], 1):
        for key in ("H", "D", "reverse", "acts", "clip", "input_forget", "peep"):
            if s[key] != first[key]:
                raise ModelError(f"LSTM node {k} ({nodes[k].name!r}) differs from node 0 in {key}: "
                                 f"{s[key]!r} vs {first[key]!r}; gatescope's layers share one configuration")
        if not g.descends(nodes[k].input[0], nodes[k - 1].output[0]):
            raise ModelError(f"LSTM node {k} ({nodes[k].name!r}) does not read node {k - 1}'s output; "
                             "gatescope imports a plain stack of LSTM layers")
    params: dict = {}
    for k, s in enumerate(specs):
        params.update({f"{name}_l{k}{sfx}": a for (name, sfx), a in s["params"].items()})
    acts = first["acts"]
    lstm = LSTM.from_torch_state_dict(unify_dtype(params), clip=first["clip"], input_forget=first["input_forget"],
                                      reverse=first["reverse"],
                                      recurrent_activation=acts[0], cell_activation=acts[1], hidden_activation=acts[2])
    emb, ids_input = g.embedding(nodes[0].input[0])
    dec_w, dec_b = g.decoder(nodes[-1].output[0])
    # The plumbing exporters use to build zero states, and the softmax gatescope's decoder applies itself.
    used = {"LSTM", "Gather", "MatMul", "Add", "Gemm", "Constant", "Shape", "Slice", "Concat", "ConstantOfShape",
            "Expand", "Tile", "Softmax", "LogSoftmax", *GLUE}
    ignored = sorted({n.op_type for n in model.graph.node if n.op_type not in used})
    src = {"framework": "onnx", "opset": max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                                              default=None),
           "producer": f"{model.producer_name} {model.producer_version}".strip(), "lstm_nodes": len(nodes), **source}
    ref = {"model": model, "layout": first["layout"], "vocab_rows": None if emb is None else emb.shape[0],
           "nodes": [(n.input[0], *[(n.output[j] if len(n.output) > j else "") for j in range(3)]) for n in nodes]}
    notes = [f"graph ops not represented: {', '.join(ignored)}"] if ignored else []
    if any(len(n.input) > 4 and n.input[4] for n in nodes):
        notes.append("the LSTM input sequence_lens (padding) is not used: gatescope traces whole sequences")
    return Parts("onnx", lstm, emb, dec_w, dec_b, src, notes, reference=ref)


def _external(model, folder: Path, onnx) -> None:
    """Read external tensor data, but only from a plain file name next to the model, within its bounds.

    torch's dynamo exporter writes `<model>.onnx.data` beside the graph by default. A location with
    a directory part could make us read any file on the machine, so it is refused.
    """
    budget = MAX_FILE_BYTES
    for t in model.graph.initializer:
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        if not loc or loc != Path(loc).name or loc in (".", ".."):
            raise ModelError(f"tensor {t.name!r} points to external data {loc!r}; only a file name beside the "
                             "model is accepted (save with save_as_external_data=False to embed it)")
        f = folder / loc
        if not f.is_file():
            raise ModelError(f"tensor {t.name!r} is stored in {loc!r}, which is not beside the model; "
                             "upload a self-contained .onnx (save with save_as_external_data=False)")
        offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
        size = f.stat().st_size
        length = size - offset if length < 0 else length
        if offset < 0 or offset + length > size or length > budget:
            raise ModelError(f"tensor {t.name!r} claims bytes {offset}..{offset + length} of {loc!r}, "
                             f"which has {size}; the data file is truncated or does not belong to this model")
        budget -= length
        with open(f, "rb") as fh:
            fh.seek(offset)
            t.raw_data = fh.read(length)
        del t.external_data[:]
        t.data_location = onnx.TensorProto.DEFAULT


def _refuse_dynamo_projection(nodes) -> None:
    """torch's dynamo exporter writes an LSTM with proj_size as a plain LSTM of size proj_size: wrong."""
    for n in nodes:
        for p in n.metadata_props:
            if p.key == "pkg.torch.onnx.fx_node" and "weight_hr" in p.value:
                raise ModelError("this graph was exported by torch.onnx (dynamo) from an nn.LSTM with proj_size; "
                                 "that exporter drops the projection and writes a wrong LSTM. Import the PyTorch "
                                 "state dict (.safetensors or .pt) instead.")


def _node_spec(node, g: Graph) -> dict:
    a = {at.name: g.onnx.helper.get_attribute_value(at) for at in node.attribute}
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ModelError(f"LSTM node {node.name!r} has direction={direction!r}; the ONNX LSTM directions are "
                         "'forward', 'reverse' and 'bidirectional'")
    D = 2 if direction == "bidirectional" else 1
    ins = list(node.input) + [""] * (8 - len(node.input))
    W, R = g.const(ins[1], node, "W"), g.const(ins[2], node, "R")
    H = int(a.get("hidden_size", R.shape[-1]))
    if W.ndim != 3 or R.shape != (D, 4 * H, H) or W.shape[:2] != (D, 4 * H):
        raise ModelError(f"LSTM node {node.name!r}: W {W.shape} and R {R.shape} do not fit hidden_size={H}, "
                         f"{D} direction(s); expected W (D, 4H, in) and R (D, 4H, H)")
    B = g.const(ins[3], node, "B") if ins[3] else None
    P = g.const(ins[7], node, "P") if ins[7] else None
    if B is not None and B.shape != (D, 8 * H):
        raise ModelError(f"LSTM node {node.name!r}: B has shape {B.shape}, expected ({D}, {8 * H})")
    if P is not None and P.shape != (D, 3 * H):
        raise ModelError(f"LSTM node {node.name!r}: P has shape {P.shape}, expected ({D}, {3 * H})")
    for j, what in ((5, "initial_h"), (6, "initial_c")):
        g.check_zero_state(ins[j], node, what, H)
    blocks = lambda m: np.concatenate([m[q * H:(q + 1) * H] for q in _ORDER], axis=0)  # noqa: E731
    params = {}
    for d, sfx in enumerate(("", "_reverse")[:D]):
        params["weight_ih", sfx] = blocks(W[d])  # (4H, in) i|f|g|o
        params["weight_hh", sfx] = blocks(R[d])  # (4H, H)
        if B is not None:
            params["bias_ih", sfx] = blocks(B[d, : 4 * H])
            params["bias_hh", sfx] = blocks(B[d, 4 * H:])
        if P is not None:
            params["weight_peephole", sfx] = np.stack([P[d, :H], P[d, 2 * H:], P[d, H:2 * H]])  # (3, H) i|f|o
    clip = a.get("clip")
    return {"H": H, "D": D, "reverse": direction == "reverse", "params": params, "acts": _activations(a, D, node),
            "peep": P is not None,
            "clip": None if clip is None else float(clip), "input_forget": bool(a.get("input_forget", 0)),
            "layout": int(a.get("layout", 0))}


def _activations(a: dict, D: int, node) -> tuple[Activation, ...]:
    names = [n.decode() if isinstance(n, bytes) else n for n in a.get("activations", [])] or \
        ["Sigmoid", "Tanh", "Tanh"] * D
    alphas, betas = list(a.get("activation_alpha", [])), list(a.get("activation_beta", []))
    acts = []
    for name in names:
        spec = _ACTS.get(name.lower())
        if spec is None:
            raise ModelError(f"LSTM node {node.name!r}: activation {name!r} (attribute 'activations') is not "
                             f"supported; supported: {', '.join(sorted(_ACTS))}")
        kind, need_a, need_b, da, db = spec
        alpha = (alphas.pop(0) if alphas else da) if need_a else 0.0
        beta = (betas.pop(0) if betas else db) if need_b else 0.0
        acts.append(Activation(kind, float(alpha), float(beta)))
    if len(acts) != 3 * D:
        raise ModelError(f"LSTM node {node.name!r}: attribute 'activations' lists {len(acts)} functions, "
                         f"expected {3 * D} (f, g, h per direction)")
    if D == 2 and acts[:3] != acts[3:]:
        raise ModelError(f"LSTM node {node.name!r}: the two directions use different activations "
                         "(attribute 'activations'); gatescope needs one set")
    return tuple(acts[:3])


def run_reference(ref: dict, ort):
    """Run the graph in onnxruntime with every LSTM node's X, Y, Y_h, Y_c exposed as outputs.

    Returns (output (B, T, D*H), h_n (B, L*D, H) or None, c_n likewise, x (B, T, in)) where x is what
    the graph fed the first LSTM node, so gatescope runs on exactly the same input.
    """
    import onnx

    m = onnx.ModelProto()
    m.CopyFrom(ref["model"])
    nodes, layout = ref["nodes"], ref["layout"]
    have = {o.name for o in m.graph.output}
    want = [nodes[0][0]] + [v for n in nodes for v in n[1:] if v]
    for v in dict.fromkeys(want):
        if v not in have:
            m.graph.output.append(onnx.ValueInfoProto(name=v))
    try:
        ort.set_default_logger_severity(4)  # a graph it refuses is reported in the record, not the console
        opts = ort.SessionOptions()
        opts.log_severity_level = 4  # the refusal is reported in the record, not on the server's console
        sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        rng = np.random.default_rng(0)
        feeds = {}
        for i in sess.get_inputs():
            shape = [d if isinstance(d, int) and d > 0 else 7 for d in i.shape]
            if "int" in i.type:
                hi = ref["vocab_rows"] or 2
                feeds[i.name] = rng.integers(0, hi, shape).astype(np.int64 if "64" in i.type else np.int32)
            elif "double" in i.type:
                feeds[i.name] = rng.standard_normal(shape)
            else:
                feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds), strict=True))
    except Exception as e:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelError(f"onnxruntime could not run the graph: {str(e).strip().splitlines()[0][:300]}") from None
    x = got[nodes[0][0]]
    x = x if layout else x.transpose(1, 0, 2)  # (B, T, in)
    y = got[nodes[-1][1]]
    y = y if layout else y.transpose(2, 0, 1, 3)  # (B, T, D, H)
    out = y.reshape(y.shape[0], y.shape[1], -1)

    def states(j: int):
        if not all(n[j] for n in nodes):
            return None
        parts = [got[n[j]] if layout else got[n[j]].transpose(1, 0, 2) for n in nodes]  # (B, D, H) each
        return np.concatenate(parts, axis=1)  # (B, L*D, H)

    return out, states(2), states(3), x
