"""Keras models: `.keras` archives (Keras 3) and legacy `.h5` files (Keras 3 and tf.keras 2.x).

Only data is read: the JSON config (layer classes, sizes, activations) and the weight arrays.
No Python object is deserialized. Weights live in
- `.keras`: `model.weights.h5` inside the zip, at `layers/<snake_case class>[_n]/cell/vars/{0,1,2}`
  (kernel, recurrent_kernel, bias), Bidirectional under `forward_layer/` and `backward_layer/`;
- `.h5`: `model_weights/<layer name>/...` listed by the group's `weight_names` attribute
  (tf.keras 2 names end in `:0`).
Layout: kernel (in, 4U), recurrent_kernel (U, 4U), one bias (4U,), gate columns i|f|c|o, which is
torch's i|f|g|o: the importer transposes, puts the bias in bias_ih and zeros in bias_hh.
`hard_sigmoid` follows the file's Keras version: clip(0.2x + 0.5, 0, 1) before Keras 3,
relu6(x + 3) / 6 from Keras 3 on.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from ..activations import HARD_SIGMOID_KERAS2, HARD_SIGMOID_KERAS3, Activation, parse
from ..errors import ModelError
from ..lstm import LSTM
from .parts import MAX_FILE_BYTES, Parts, as_float, unify_dtype

MAX_CONFIG_BYTES = 16 << 20
MAX_RATIO = 100  # a deflated member expanding more than this is treated as a zip bomb
_PASS = {"InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "ActivityRegularization"}
_ACTS = {"sigmoid", "tanh", "relu", "linear", "softsign", "softplus", "hard_sigmoid", "elu"}


def read(path: Path, source: dict) -> Parts:
    try:
        import h5py
    except ImportError:
        raise ModelError("reading Keras files needs h5py (pip install h5py)") from None
    try:
        if zipfile.is_zipfile(path):
            return _read_keras_zip(path, source, h5py)
        with h5py.File(path, "r") as f:
            return _read_h5(f, path, source)
    except OSError as e:  # h5py reports truncated or corrupt files as OSError
        raise ModelError(f"{path.name}: cannot read the HDF5 data ({str(e).splitlines()[0][:200]}); "
                         "the file is truncated or corrupt") from None


def _read_keras_zip(path: Path, source: dict, h5py) -> Parts:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError):
        raise ModelError(f"{path.name} is not a readable .keras archive; it may be truncated") from None
    with z:
        total = 0
        for info in z.infolist():
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            bomb = ratio > MAX_RATIO and info.file_size > 1 << 20
            if info.file_size > MAX_FILE_BYTES or total > MAX_FILE_BYTES or bomb:
                raise ModelError(f"{path.name}: member {info.filename!r} would expand to {info.file_size} bytes "
                                 f"from {info.compress_size}; refused as a possible zip bomb")
        config = _json(_member(z, "config.json", MAX_CONFIG_BYTES), "config.json")
        meta = _json(_member(z, "metadata.json", 1 << 20), "metadata.json") if "metadata.json" in z.namelist() else {}
        weights = _member(z, "model.weights.h5", MAX_FILE_BYTES)
    version = str(meta.get("keras_version", "3"))
    with h5py.File(io.BytesIO(weights), "r") as f:
        layers = _layer_configs(config)
        counts: dict[str, int] = {}
        found = []
        for cls, cfg in layers:
            snake = _snake(cls)
            n = counts.get(snake, 0)
            counts[snake] = n + 1
            group = f.get(f"layers/{snake}" + (f"_{n}" if n else ""))
            found.append((cls, cfg, _zip_weights(cls, group)))
        return _build(found, version, {**source, "container": "keras"})


def _zip_weights(cls: str, group) -> dict:
    if group is None:
        return {}
    if cls == "LSTM":
        return {"forward": _vars(group, "cell/vars")}
    if cls == "Bidirectional":
        return {"forward": _vars(group, "forward_layer/cell/vars"),
                "backward": _vars(group, "backward_layer/cell/vars")}
    return {"layer": _vars(group, "vars")}


def _vars(group, sub: str) -> list[np.ndarray]:
    g = group.get(sub)
    if g is None:
        return []
    return [_array(g[k], k) for k in sorted(g.keys(), key=int)]


def _read_h5(f, path: Path, source: dict) -> Parts:
    if "model_weights" not in f or "model_config" not in f.attrs:
        raise ModelError(f"{path.name} holds weights without a model config (save_weights); gatescope needs the "
                         "whole model: model.save('model.keras') or model.save('model.h5')")
    config = _json(_text(f.attrs["model_config"]), "model_config")
    version = _text(f.attrs.get("keras_version", f["model_weights"].attrs.get("keras_version", "2")))
    found = []
    for cls, cfg in _layer_configs(config):
        g = f["model_weights"].get(cfg.get("name", ""))
        found.append((cls, cfg, _h5_weights(cls, g) if g is not None else {}))
    return _build(found, version, {**source, "container": "h5"})


def _h5_weights(cls: str, g) -> dict:
    """Arrays by role from a legacy group's `weight_names` (`.../lstm_cell/kernel:0` and the like)."""
    roles: dict[str, dict[str, np.ndarray]] = {}
    for raw in g.attrs.get("weight_names", []):
        name = _text(raw)
        parts = name.split("/")
        role = parts[-1].removesuffix(":0")
        side = "backward" if any(p.startswith("backward") for p in parts[:-1]) else "forward"
        roles.setdefault(side if cls in ("LSTM", "Bidirectional") else "layer", {})[role] = _array(g[name], name)
    order = {"forward": ("kernel", "recurrent_kernel", "bias"), "backward": ("kernel", "recurrent_kernel", "bias"),
             "layer": ("embeddings", "kernel", "bias")}
    return {side: [d[r] for r in order[side] if r in d] for side, d in roles.items()}


def _build(found: list, version: str, source: dict) -> Parts:
    """Walk the layers in order: Embedding?, LSTM or Bidirectional(LSTM) layers, Dense?."""
    major = int(m.group()) if (m := re.match(r"\d+", version)) else 3
    emb, dense, lstms, ignored = None, None, [], []
    for cls, cfg, w in found:
        label = f"layer {cfg.get('name', '?')!r} ({cls})"
        if cls in _PASS or (cls in ("Activation", "Softmax") and dense is not None
                            and cfg.get("activation", "softmax") in ("softmax", "linear")):
            ignored += [label] if cls not in ("InputLayer",) else []
            continue
        if cls == "Embedding" and not lstms and emb is None:
            emb = as_float(w["layer"][0], label)
        elif cls in ("LSTM", "Bidirectional") and dense is None:
            lstms.append(_lstm_layer(cls, cfg, w, label, major))
        elif cls == "Dense" and lstms and dense is None:
            act = cfg.get("activation") or "linear"
            if act not in ("linear", "softmax"):
                raise ModelError(f"{label} uses activation {act!r}; gatescope reads a final Dense as logits "
                                 "(linear or softmax)")
            kb = w["layer"]
            dense = (as_float(kb[0], label), as_float(kb[1], label) if len(kb) > 1 else None)
        elif cls in ("Sequential", "Functional", "Model"):
            raise ModelError(f"{label} is a nested model; gatescope reads one flat stack of layers")
        else:
            raise ModelError(f"{label} is not supported here: gatescope imports Embedding, then LSTM or "
                             "Bidirectional(LSTM) layers, then one Dense")
    if not lstms:
        raise ModelError("the model has no LSTM layer")
    first = lstms[0]
    for k, layer in enumerate(lstms[1:], 1):
        for key in ("units", "bidirectional", "activation", "recurrent_activation", "use_bias"):
            if layer[key] != first[key]:
                raise ModelError(f"LSTM layer {k} differs from layer 0 in {key} ({layer[key]!r} vs {first[key]!r}); "
                                 "gatescope's layers share one configuration")
    params = {}
    for k, layer in enumerate(lstms):
        for sfx, (kern, rec, *bias) in zip(("", "_reverse"), layer["weights"], strict=False):
            params[f"weight_ih_l{k}{sfx}"] = kern.T  # (4U, in), columns i|f|c|o become rows i|f|g|o
            params[f"weight_hh_l{k}{sfx}"] = rec.T  # (4U, U)
            if layer["use_bias"]:
                params[f"bias_ih_l{k}{sfx}"] = bias[0]
                params[f"bias_hh_l{k}{sfx}"] = np.zeros_like(bias[0])  # Keras has one bias
    rec, act = (_activation(first[k], k, major) for k in ("recurrent_activation", "activation"))
    lstm = LSTM.from_torch_state_dict(unify_dtype(params), recurrent_activation=rec, cell_activation=act,
                                      hidden_activation=act)
    if dense and not lstms[-1]["return_sequences"]:
        ignored.append("the final Dense reads only the last step in Keras (return_sequences=False); "
                       "gatescope shows its prediction after every step")
    src = {"framework": f"keras {version}", **source}
    ref = {"layers": lstms, "keras2": major < 3, "dense": dense}
    dec_w, dec_b = (dense[0].T, dense[1]) if dense else (None, None)
    return Parts("keras", lstm, emb, dec_w, dec_b, src, ignored, reference=ref)


def _lstm_layer(cls: str, cfg: dict, w: dict, label: str, major: int) -> dict:
    inner = cfg
    if cls == "Bidirectional":
        inner_cls = cfg.get("layer", {}).get("class_name")
        if inner_cls != "LSTM":
            raise ModelError(f"{label} wraps {inner_cls}; gatescope imports Bidirectional(LSTM) only")
        if cfg.get("merge_mode", "concat") != "concat":
            raise ModelError(f"{label} has merge_mode={cfg.get('merge_mode')!r}; gatescope needs 'concat', "
                             "which keeps both directions' h")
        inner = cfg["layer"]["config"]
        back = (cfg.get("backward_layer") or {}).get("config")
        if back and any(back.get(k) != inner.get(k) for k in ("units", "activation", "recurrent_activation")):
            raise ModelError(f"{label}: the backward LSTM differs from the forward one; gatescope needs them alike")
    if inner.get("go_backwards") and cls == "LSTM":
        raise ModelError(f"{label} has go_backwards=True outside Bidirectional; gatescope reads left to right")
    if inner.get("time_major"):
        raise ModelError(f"{label} has time_major=True, which gatescope does not read")
    sides = ("forward", "backward") if cls == "Bidirectional" else ("forward",)
    use_bias = bool(inner.get("use_bias", True))
    weights = []
    for s in sides:
        arrs = w.get(s, [])
        if len(arrs) != 2 + use_bias:
            raise ModelError(f"{label}: expected {2 + use_bias} weight arrays for the {s} LSTM, found {len(arrs)}")
        weights.append([as_float(a, label) for a in arrs])
    return {"units": int(inner["units"]), "bidirectional": cls == "Bidirectional", "use_bias": use_bias,
            "return_sequences": bool(inner.get("return_sequences", False)),
            "activation": _act_name(inner.get("activation", "tanh"), "activation", label),
            "recurrent_activation": _act_name(inner.get("recurrent_activation", "sigmoid"), "recurrent_activation",
                                              label), "weights": weights}


def _act_name(a, attr: str, label: str) -> str:
    if isinstance(a, dict):  # Keras 3 may serialize a built-in as {"module": "keras.activations", "config": name}
        a = a.get("config") if isinstance(a.get("config"), str) and "keras" in str(a.get("module")) else None
    if a not in _ACTS:
        raise ModelError(f"{label}: {attr}={a!r} is not supported; supported: {', '.join(sorted(_ACTS))}")
    return a


def _activation(name: str, attr: str, major: int) -> Activation:
    if name == "hard_sigmoid":
        return HARD_SIGMOID_KERAS2 if major < 3 else HARD_SIGMOID_KERAS3
    return parse(name)


def _layer_configs(config) -> list[tuple[str, dict]]:
    """(class_name, config) of each layer in order, for Sequential and Functional, Keras 2 and 3."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelError("the model config is not a Keras model description")
    body = config.get("config")
    layers = body if isinstance(body, list) else (body or {}).get("layers")
    if config["class_name"] not in ("Sequential", "Functional", "Model") or not isinstance(layers, list):
        raise ModelError(f"the file holds a {config['class_name']!r}, not a Sequential or Functional model")
    out = []
    for item in layers:
        if not isinstance(item, dict) or not isinstance(item.get("config"), dict):
            raise ModelError("a layer entry in the model config is malformed")
        cfg = dict(item["config"])
        cfg.setdefault("name", item.get("name"))
        out.append((str(item.get("class_name")), cfg))
    return out


def _member(z: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, read in chunks and cut off at `limit` whatever its header claims."""
    try:
        with z.open(name) as fh:
            data = fh.read(limit + 1)
    except KeyError:
        raise ModelError(f"the .keras archive has no {name}") from None
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ModelError(f"the .keras archive's {name} is corrupt or truncated ({e})") from None
    if len(data) > limit:
        raise ModelError(f"the .keras archive's {name} is larger than {limit} bytes; refused")
    return data


def _json(raw, what: str):
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError):
        raise ModelError(f"{what} is not valid JSON") from None


def _text(v) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _array(ds, name: str) -> np.ndarray:
    if not hasattr(ds, "shape") or ds.size * ds.dtype.itemsize > MAX_FILE_BYTES:
        raise ModelError(f"weight {name!r} is not an array of a plausible size")
    return ds[()]


def _snake(name: str) -> str:
    """Keras's own naming.to_snake_case: LSTM -> lstm, InputLayer -> input_layer."""
    s = re.sub(r"\W+", "", name)
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", s)
    return re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()
