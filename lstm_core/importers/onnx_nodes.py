"""One ONNX LSTM (or DynamicQuantizeLSTM) node to torch-named parameters and its settings.

ONNX layout: W [D, 4H, in], R [D, 4H, H], B [D, 8H] = [Wb | Rb], P [D, 3H]; gate rows i|o|f|c, peepholes
i|o|f. Converted here to torch's i|f|g|o (blocks 0, 2, 3, 1) and peephole rows i|f|o; direction 0 is the
forward one. DynamicQuantizeLSTM keeps W [D, in, 4H] and R [D, H, 4H] in int8 with a scale and zero point
per direction ([D]) or per output channel ([D, 4H]): dequantized here, (q - zero_point) * scale.
"""
from __future__ import annotations

import numpy as np

from ..activations import Activation
from ..errors import ModelError
from .onnx_graph import Graph
from .parts import as_float

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


def node_spec(node, g: Graph) -> dict:
    a = {at.name: g.onnx.helper.get_attribute_value(at) for at in node.attribute}
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ModelError(f"LSTM node {node.name!r} has direction={direction!r}; the ONNX LSTM directions are "
                         "'forward', 'reverse' and 'bidirectional'")
    D = 2 if direction == "bidirectional" else 1
    ins = list(node.input) + [""] * (12 - len(node.input))
    if node.op_type == "DynamicQuantizeLSTM":
        W, R = _dequantize(g, node, ins[1], ins[8], ins[9], "W"), _dequantize(g, node, ins[2], ins[10], ins[11], "R")
    else:
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
    seq = _sequence_lens(g, ins[4], node)
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
            "layout": int(a.get("layout", 0)), "seq": seq,
            "dequantized": (W, R) if node.op_type == "DynamicQuantizeLSTM" else None}


def stored_batch(graph, g: Graph, node, layout: int) -> dict[str, int]:
    """{batch dimension name: size} when a stored initial state fixes the batch of a graph input X."""
    states = [g.tensor(n) for n in list(node.input)[5:7] if n]
    src = g.origin(node.input[0])
    fixed = [a.shape[0 if layout else 1] for a in states if a is not None and a.ndim == 3]
    x = next((i for i in graph.input if i.name == src and src == node.input[0]), None)
    if not fixed or x is None:
        return {}
    dim = x.type.tensor_type.shape.dim[0 if layout else 1]
    return {dim.dim_param: int(fixed[0])} if dim.dim_param else {}


def _dequantize(g: Graph, node, q: str, scale: str, zero: str, role: str) -> np.ndarray:
    """DynamicQuantizeLSTM's int8 W [D, in, 4H] (or R [D, H, 4H]) as float in the LSTM op's [D, 4H, in] layout."""
    w = g.stored(q, node, role)
    s = g.stored(scale, node, f"{role}_scale").astype(np.float32) if scale else None
    z = g.stored(zero, node, f"{role}_zero_point").astype(np.float32) if zero else np.zeros((), np.float32)
    if w.ndim != 3 or s is None or s.size not in (w.shape[0], w.shape[0] * w.shape[2]) or z.size not in (1, s.size):
        raise ModelError(f"DynamicQuantizeLSTM node {node.name!r}: {role} {w.shape} with scale "
                         f"{None if s is None else s.shape} is not the per-tensor ([D]) or per-channel ([D, 4H]) "
                         "quantization the contrib op defines")
    per = (w.shape[0], 1, -1) if s.size > w.shape[0] else (-1, 1, 1)  # per output channel, or per direction
    zero_point = z.reshape(per) if z.size == s.size else z.reshape(())
    deq = (w.astype(np.float32) - zero_point) * s.reshape(per)  # (D, in, 4H)
    return as_float(deq.transpose(0, 2, 1), f"{node.name or 'LSTM'}.{role}")  # (D, 4H, in)


def _sequence_lens(g: Graph, name: str, node) -> str | None:
    """The graph input that sets sequence_lens (honoured), None when omitted; a sentence when the file fixes it."""
    if not name:
        return None
    src = g.origin(name)
    if src in g.inputs and src not in g.supplied:
        return src
    fixed = g.tensor(name)
    if fixed is not None:
        raise ModelError(f"LSTM node {node.name!r}: sequence_lens is fixed to {np.asarray(fixed).ravel()[:8].tolist()} "
                         "by the file or --onnx-input; gatescope traces each text at its own length, so it cannot "
                         "follow a graph that stops every sequence at a fixed step")
    raise ModelError(f"LSTM node {node.name!r}: sequence_lens is computed by the graph "
                     f"({g.producer[name].op_type if name in g.producer else 'unknown'}); gatescope traces each text "
                     "at its own length and cannot tell where such a graph would stop")


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
