"""Keras weights-only `.h5` files (`model.save_weights`): no config, so the layers are inferred.

Two layouts, both read as data only:
- Keras 2 (and tf.keras): root attributes `layer_names` (possibly chunked as layer_names0, 1, ...),
  `keras_version`, `backend`; one group per layer with a `weight_names` attribute; datasets named by
  the weights' full names (`lstm_1/kernel:0`, `bidirectional_1/forward_lstm_1/kernel:0`). The order of
  `layer_names` is the model's.
- Keras 3 (`*.weights.h5`): `layers/<snake_case class>[_n]/...` with `vars/0, 1, ...` (the layer's own
  name in the `vars` group's `name` attribute) and `cell/vars` for LSTMs. No order is recorded: it is
  inferred by chaining the weight shapes.
A layer is recognised by its weights: `embeddings` (V, E) = Embedding; kernel (in, 4U) + recurrent_kernel
(U, 4U) + bias (4U,) = LSTM; bias (8U,) = CuDNNLSTM, converted from cuDNN's layout (keras_infer);
forward_/backward_ pairs = Bidirectional; kernel (in, V) + bias = Dense. Activations are not recorded:
they default to what the file's Keras version implied (flags override), and every assumption is a note.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import ModelError
from .keras_infer import classify, defaults, order, to_found
from .keras_layers import build
from .parts import KerasOptions, Parts


def attr_list(group, name: str) -> list[str]:
    """Keras 2's load_attributes_from_hdf5_group: `name`, or its chunks name0, name1, ..."""
    raw = list(group.attrs[name]) if name in group.attrs else []
    k = 0
    while name not in group.attrs and f"{name}{k}" in group.attrs:
        raw += list(group.attrs[f"{name}{k}"])
        k += 1
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in raw]


def keras2_layers(f, read) -> list[tuple[str, dict[str, dict[str, np.ndarray]], str]]:
    """(layer name, {side: {role: array}}, name) in `layer_names` order; side is forward, backward or layer."""
    out = []
    for name in attr_list(f, "layer_names"):
        g = f.get(name)
        if g is None:
            raise ModelError(f"layer_names lists {name!r} but the file has no such group; it is truncated or edited")
        sides: dict[str, dict[str, np.ndarray]] = {}
        for wname in attr_list(g, "weight_names"):
            parts = wname.split("/")
            role = re.sub(r"(:\d+)?(_\d+)?$", "", parts[-1])  # kernel:0, and Keras's de-duplicated kernel_1
            side = next((s for s in ("forward", "backward") if any(p.startswith(s) for p in parts[:-1])), "layer")
            if wname not in g:
                raise ModelError(f"layer {name!r} lists weight {wname!r} but the file does not hold it")
            sides.setdefault(side, {})[role] = read(g[wname], wname)
        if sides:
            out.append((name, sides, name))
    return out


def keras3_layers(f, read) -> list[tuple[str, dict[str, dict[str, np.ndarray]], str]]:
    """(group name, {side: {role: array}}, the user's layer name) for each group under `layers/`, unordered."""
    roles_lstm, out = ("kernel", "recurrent_kernel", "bias"), []

    def vars_of(g, roles) -> dict[str, np.ndarray]:
        v = g.get("vars") if g is not None else None
        keys = sorted(v.keys(), key=int) if v is not None else []
        return {r: read(v[k], f"{g.name}/vars/{k}") for r, k in zip(roles, keys, strict=False)}

    for key, g in f["layers"].items():
        # The group key (lstm, lstm_1: numbered per class in creation order) names the layer; the user's
        # own name, in the vars group's attribute, is accepted by --layers too.
        alias = _text(g["vars"].attrs.get("name", key)) if "vars" in g else key
        if "forward_layer" in g and "backward_layer" in g:
            sides = {s: vars_of(g[f"{s}_layer"].get("cell"), roles_lstm) for s in ("forward", "backward")}
        elif "cell" in g:
            sides = {"layer": vars_of(g["cell"], roles_lstm)}
        else:
            v = vars_of(g, ("a", "b"))
            one = len(v) == 1 and v["a"].ndim == 2
            sides = {"layer": {"embeddings": v["a"]} if one else {"kernel": v.get("a"), "bias": v.get("b")}}
            sides["layer"] = {k: a for k, a in sides["layer"].items() if a is not None}
        if any(sides.values()):
            out.append((key, sides, alias))
    return out


def read(f, path: Path, source: dict, opts: KerasOptions, read_array) -> Parts:
    """model.save_weights files: Keras 2 (`layer_names` attribute) or Keras 3 (`layers/` groups)."""
    if "layer_names" in f.attrs or "layer_names0" in f.attrs:
        version = _text(f.attrs.get("keras_version", "1"))
        if re.match(r"1(\.|$)", version):
            raise ModelError(f"{path.name} was written by Keras {version}, whose per-gate weight layout gatescope "
                             "does not read; load it in Keras 2 and save it again")
        raw, recorded = keras2_layers(f, read_array), True
    elif "layers" in f and hasattr(f["layers"], "keys"):
        version, raw, recorded = None, keras3_layers(f, read_array), False
    else:
        raise ModelError(f"{path.name} is an HDF5 file but neither a Keras model nor Keras weights "
                         "(no model_config, layer_names or layers/)")
    if opts.layers:
        alias = {a: n for n, _, a in raw}
        opts = KerasOptions(opts.activation, opts.recurrent_activation, tuple(alias.get(n, n) for n in opts.layers))
        missing = sorted(set(opts.layers) - {n for n, _, _ in raw})
        if missing:
            raise ModelError(f"--layers names {', '.join(map(repr, missing))}, which the file does not hold; its "
                             f"layers are {', '.join(repr(n) for n, _, _ in raw)}")
    layers = [classify(n, sides) for n, sides, _ in raw if not opts.layers or n in opts.layers]
    ordered, chain = order(layers, opts, recorded)
    acts, notes = defaults(version, ordered, opts)
    parts = build(to_found(ordered, acts), version or "3",
                  {**source, "container": "h5 weights-only", "keras_layout": 2 if recorded else 3})
    summary = ", ".join(f"{la['name']} ({_kind(la)})" for la in ordered)
    notes.insert(0, f"Weights-only file (model.save_weights): it records no layer configuration, so the layers were "
                    f"inferred from their weight names and shapes: {summary}.")
    if chain:
        notes.append(f"Keras 3 weights files do not record the layer order; chained by weight shapes: {chain}.")
    cudnn = [la["name"] for la in ordered if la.get("cudnn")]
    caveats = [f"the activations ({acts['recurrent_activation']} gates, {acts['activation']} cell) were assumed and "
               "Keras ran with the same assumption, so this check cannot catch a wrong one"]
    if any(la["kind"] == "dense" for la in ordered):
        notes.append("The file does not say whether the last LSTM returned sequences: the Dense layer is read after "
                     "every step, unless --head classifier says that it reads the final state.")
        caveats.append("whether the Dense layer reads every step or the final state is not in the file; Keras ran it "
                       "the way gatescope reads it, so this check cannot catch a wrong choice")
    if cudnn:
        notes.append(f"{', '.join(cudnn)}: CuDNNLSTM weights (bias 8 x units) in cuDNN's layout, converted as "
                     "Keras 2's _convert_rnn_weights does: per gate, input kernel k.T.reshape(k.shape, order='F'), "
                     "recurrent kernel k.T, input and recurrent biases summed.")
        caveats.append(f"not verified: the cuDNN layout conversion of {', '.join(cudnn)} (Keras 3 has no CuDNNLSTM "
                       "and Keras 2 with cuDNN cannot run here); Keras 3's LSTM ran the converted weights, which "
                       "checks the rest of the import")
    if acts["recurrent_activation"] == "hard_sigmoid" and parts.reference["keras2"]:
        caveats.append("not verified against Keras 2 itself: Keras 2's hard_sigmoid, clip(0.2x + 0.5, 0, 1), ran as "
                       "a function inside Keras 3's LSTM")
    parts.notes[:0] = notes
    parts.reference["caveats"] = caveats
    parts.reference["config"] = False  # no return_sequences on record: verify.py runs the head as chosen
    return parts


def _kind(layer: dict) -> str:
    if layer["kind"] != "lstm":
        return {"embedding": "Embedding", "dense": "Dense"}[layer["kind"]] + f" {layer['weights'][0].shape}"
    cell = "CuDNNLSTM" if layer.get("cudnn") else "LSTM"
    return (f"Bidirectional({cell})" if layer["bidirectional"] else cell) + f" {layer['units']} units"


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)
