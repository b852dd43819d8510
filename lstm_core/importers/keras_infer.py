"""Inferring a Keras model from a weights-only file: what each layer is, their order, the activations.

Layers are recognised by their weights (see keras_weights.py); CuDNNLSTM weights are converted to
Keras's LSTM layout with Keras 2's own rule (cudnn_to_keras). The result is the (class, config,
weights) list keras_layers.build reads from a whole model file, so both paths share one builder.
"""
from __future__ import annotations

import itertools
import re

import numpy as np

from ..errors import ModelError
from .parts import KerasOptions

MAX_ORDERINGS = 8  # recurrent layers beyond this need --layers: their orderings are not searched


def cudnn_to_keras(kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> list[np.ndarray]:
    """Keras 2's `_convert_rnn_weights` (engine/saving.py) from CuDNNLSTM to LSTM, gate by gate (i|f|c|o).

    Per gate, the input kernel is k.T.reshape(k.shape, order='F') and the recurrent kernel k.T; the
    8U bias is the input biases then the recurrent ones, summed into Keras's single 4U bias.
    """
    def per_gate(m: np.ndarray, fn) -> np.ndarray:
        return np.hstack([fn(k) for k in np.hsplit(m, 4)])

    return [per_gate(kernel, lambda k: k.T.reshape(k.shape, order="F")),  # (in, 4U)
            per_gate(recurrent, lambda k: k.T),  # (U, 4U)
            np.sum(np.split(bias, 2, axis=0), axis=0)]  # (4U,)


def classify(name: str, sides: dict) -> dict:
    """What one layer is, from its weight names and shapes, with its weights in Keras LSTM layout."""
    label = f"layer {name!r}"
    rec = {s: d for s, d in sides.items() if "recurrent_kernel" in d}
    if rec:
        layer = {"name": name, "bidirectional": set(rec) == {"forward", "backward"}, "cudnn": False, "weights": []}
        for s in ("forward", "backward") if layer["bidirectional"] else tuple(rec)[:1]:
            d = rec[s]
            k, r, b = d.get("kernel"), d["recurrent_kernel"], d.get("bias")
            if r.ndim != 2 or k is None or k.ndim != 2 or r.shape[1] != k.shape[1]:
                raise ModelError(f"{label}: kernel {None if k is None else k.shape} and recurrent_kernel {r.shape} "
                                 "are not a recurrent layer's")
            U = r.shape[0]
            if r.shape[1] != 4 * U:
                kind = "GRU" if r.shape[1] == 3 * U else "SimpleRNN" if r.shape[1] == U else "unknown"
                raise ModelError(f"{label} is a {kind} layer (recurrent_kernel {r.shape}); gatescope imports LSTMs")
            if b is not None and b.shape == (8 * U,):
                layer["cudnn"] = True
                k, r, b = cudnn_to_keras(k, r, b)
            elif b is not None and b.shape != (4 * U,):
                raise ModelError(f"{label}: bias {b.shape} is neither an LSTM's (4 x {U}) nor a CuDNNLSTM's (8 x {U})")
            layer["weights"].append([k, r] + ([b] if b is not None else []))
        layer.update(units=U, kind="lstm", input=layer["weights"][0][0].shape[0],
                     output=U * (2 if layer["bidirectional"] else 1), use_bias=len(layer["weights"][0]) == 3)
        return layer
    d = sides.get("layer", {})
    if set(d) == {"embeddings"} and d["embeddings"].ndim == 2:
        return {"name": name, "kind": "embedding", "weights": [d["embeddings"]], "output": d["embeddings"].shape[1]}
    if "kernel" in d and d["kernel"].ndim == 2 and set(d) <= {"kernel", "bias"}:
        return {"name": name, "kind": "dense", "weights": [d["kernel"], *([d["bias"]] if "bias" in d else [])],
                "input": d["kernel"].shape[0]}
    raise ModelError(f"{label} holds {', '.join(sorted(d))}: not an Embedding, LSTM, Bidirectional(LSTM), "
                     "CuDNNLSTM or Dense layer; pass --layers to name the layers to read")


def order(layers: list[dict], opts: KerasOptions, recorded: bool) -> tuple[list[dict], str | None]:
    """The layers in model order: as named by --layers, as recorded (Keras 2), or chained by shapes (Keras 3)."""
    if opts.layers:  # names checked against the file by the reader
        by = {la["name"]: la for la in layers}
        return [by[n] for n in opts.layers], None
    if recorded:
        return layers, None
    emb = [la for la in layers if la["kind"] == "embedding"]
    dense = [la for la in layers if la["kind"] == "dense"]
    rec = sorted((la for la in layers if la["kind"] == "lstm"), key=lambda la: _natural(la["name"]))
    if not rec:
        raise ModelError("the weights file holds no LSTM layer (no recurrent_kernel of 4 x units columns)")
    if len(emb) > 1 or len(dense) > 1 or len(rec) > MAX_ORDERINGS:
        raise ModelError("the file does not record the order of its layers and it holds too many to infer it; "
                         "pass --layers NAME,... in model order")
    fits = []
    for chain in itertools.permutations(rec):
        dims = [la["input"] for la in chain] + ([dense[0]["input"]] if dense else [])
        outs = ([emb[0]["output"]] if emb else [dims[0]]) + [la["output"] for la in chain]
        if all(a == b for a, b in zip(outs, dims, strict=False)):
            fits.append(list(chain))
    if not fits:
        raise ModelError("the layers' weight shapes do not chain into one stack (embedding, LSTMs, dense); "
                         "pass --layers NAME,... in model order")
    # Keras numbers layers of a class in creation order (lstm, lstm_1, ...): prefer the chains that keep it.
    keep = [f for f in fits if not _natural_clash(f)] or fits
    if len(keep) > 1:
        raise ModelError(f"the order of layers {', '.join(la['name'] for la in rec)} cannot be told from this file "
                         "(Keras 3 weights files do not record it and their shapes fit several orders); pass "
                         "--layers NAME,... in model order")
    chain = keep[0]
    return emb + chain + dense, " -> ".join(la["name"] for la in emb + chain + dense)


def _natural(name: str) -> tuple[str, int]:
    m = re.match(r"(.*?)(?:_(\d+))?$", name)
    return m.group(1), int(m.group(2) or 0)


def _natural_clash(chain: list[dict]) -> bool:
    """True when a chain puts a later-numbered layer of a class before an earlier one."""
    seen: dict[str, int] = {}
    for la in chain:
        base, n = _natural(la["name"])
        if n < seen.get(base, -1):
            return True
        seen[base] = n
    return False


def defaults(version: str | None, layers: list[dict], opts: KerasOptions) -> tuple[dict, list[str]]:
    """The activations to assume, and the sentences that say why (Keras 2 before 2.3: hard_sigmoid gates)."""
    nums = [int(n) for n in re.findall(r"\d+", version or "")[:2]] or [3]
    old = nums[0] < 2 or (nums[0] == 2 and len(nums) > 1 and nums[1] < 3)
    cudnn = any(la.get("cudnn") for la in layers if la["kind"] == "lstm")
    made_by = f"Keras {version}" if version else "Keras 3 (the file records no version; Keras 3 writes none)"
    rec = opts.recurrent_activation or ("sigmoid" if cudnn or not old else "hard_sigmoid")
    act = opts.activation or "tanh"
    notes = []
    if opts.recurrent_activation:
        notes.append(f"recurrent_activation={rec} as given by --recurrent-activation.")
    elif cudnn:
        notes.append("recurrent_activation=sigmoid and activation=tanh: CuDNNLSTM has no other activations.")
    else:
        why = "before 2.3 defaulted to hard_sigmoid (Keras 2's clip(0.2x + 0.5, 0, 1))" if old else \
            "2.3 and later, and Keras 3, default to sigmoid"
        notes.append(f"The file records no activations: assumed recurrent_activation={rec}, the default of "
                     f"{made_by}, which wrote it (Keras {why}). If the model set another, pass --recurrent-activation.")
        if version and version.endswith("-tf") and old:
            notes.append(f"Keras version {version} was written by tf.keras, which reports an old Keras version: "
                         "TensorFlow 2's LSTM defaults to sigmoid, so a file from TensorFlow 2 needs "
                         "--recurrent-activation sigmoid.")
    notes.append(f"activation={act}" + (" as given by --activation." if opts.activation else
                                        " assumed (the Keras default; not recorded in the file)."))
    return {"activation": act, "recurrent_activation": rec}, notes


def to_found(layers: list[dict], acts: dict) -> list[tuple[str, dict, dict]]:
    """(class, config, weights) triples in the shape keras_layers.build reads from a full model file."""
    found = []
    for la in layers:
        if la["kind"] == "embedding":
            found.append(("Embedding", {"name": la["name"]}, {"layer": la["weights"]}))
        elif la["kind"] == "dense":
            found.append(("Dense", {"name": la["name"], "activation": "linear"}, {"layer": la["weights"]}))
        else:
            inner = {"name": la["name"], "units": la["units"], "use_bias": la["use_bias"], "return_sequences": True,
                     **acts}
            w = dict(zip(("forward", "backward"), la["weights"], strict=False))
            if la["bidirectional"]:
                found.append(("Bidirectional", {"name": la["name"], "merge_mode": "concat",
                                                "layer": {"class_name": "LSTM", "config": inner}}, w))
            else:
                found.append(("LSTM", inner, w))
    return found
