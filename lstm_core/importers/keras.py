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

import re
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..jsonsafe import loads
from . import keras_weights
from .keras_layers import build, layer_configs
from .parts import MAX_FILE_BYTES, KerasOptions, Parts, check_zip, read_member

MAX_CONFIG_BYTES = 16 << 20


def read(path: Path, source: dict, options: KerasOptions | None = None) -> Parts:
    try:
        import h5py
    except ImportError:
        raise ModelError("reading Keras files needs h5py (pip install h5py)") from None
    try:
        if zipfile.is_zipfile(path):
            return _read_keras_zip(path, source, h5py)
        with h5py.File(path, "r") as f:
            return _read_h5(f, path, source, options or KerasOptions())
    except OSError as e:  # h5py reports truncated or corrupt files as OSError
        raise ModelError(f"{path.name}: cannot read the HDF5 data ({str(e).splitlines()[0][:200]}); "
                         "the file is truncated or corrupt") from None


def _read_keras_zip(path: Path, source: dict, h5py) -> Parts:
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError):
        raise ModelError(f"{path.name} is not a readable .keras archive; it may be truncated") from None
    with z:
        check_zip(z, path.name)
        config = _json(_member(z, "config.json", MAX_CONFIG_BYTES), "config.json")
        meta = _json(_member(z, "metadata.json", 1 << 20), "metadata.json") if "metadata.json" in z.namelist() else {}
        weights = read_member(z, "model.weights.h5", MAX_FILE_BYTES, "the .keras archive")
    version = str(meta.get("keras_version", "3")) if isinstance(meta, dict) else "3"
    with h5py.File(weights, "r") as f:
        layers = layer_configs(config)
        counts: dict[str, int] = {}
        found = []
        for cls, cfg in layers:
            snake = _snake(cls)
            n = counts.get(snake, 0)
            counts[snake] = n + 1
            group = f.get(f"layers/{snake}" + (f"_{n}" if n else ""))
            found.append((cls, cfg, _zip_weights(cls, group)))
        return build(found, version, {**source, "container": "keras"})


def _zip_weights(cls: str, group) -> dict:
    if group is None:
        return {}
    if cls == "LSTM":
        return {"forward": _vars(group, "cell/vars")}
    if cls == "Bidirectional":
        return {"forward": _vars(group, "forward_layer/cell/vars"),
                "backward": _vars(group, "backward_layer/cell/vars")}
    if cls == "TimeDistributed":
        return {"layer": _vars(group, "layer/vars")}
    return {"layer": _vars(group, "vars")}


def _vars(group, sub: str) -> list[np.ndarray]:
    g = group.get(sub)
    if g is None:
        return []
    return [_array(g[k], k) for k in sorted(g.keys(), key=int)]


def _read_h5(f, path: Path, source: dict, opts: KerasOptions) -> Parts:
    if "model_weights" not in f or "model_config" not in f.attrs:
        return keras_weights.read(f, path, source, opts, _array)
    if opts.given():
        raise ModelError(f"{path.name} is a whole Keras model whose config records its layers and activations; "
                         "--activation, --recurrent-activation and --layers apply to weights-only files")
    config = _json(_text(f.attrs["model_config"]), "model_config")
    version = _text(f.attrs.get("keras_version", f["model_weights"].attrs.get("keras_version", "2")))
    found = []
    for cls, cfg in layer_configs(config):
        g = f["model_weights"].get(cfg.get("name", ""))
        found.append((cls, cfg, _h5_weights(cls, g) if g is not None else {}))
    return build(found, version, {**source, "container": "h5"})


def _h5_weights(cls: str, g) -> dict:
    """Arrays by role from a legacy group's `weight_names` (`.../lstm_cell/kernel:0` and the like)."""
    roles: dict[str, dict[str, np.ndarray]] = {}
    for raw in g.attrs.get("weight_names", []):
        name = _text(raw)
        parts = name.split("/")
        role = parts[-1].removesuffix(":0")
        side = "backward" if any(p.startswith("backward") for p in parts[:-1]) else "forward"
        if name not in g:
            raise ModelError(f"layer {g.name.rsplit('/', 1)[-1]!r} lists weight {name!r}, which the file does not "
                             "hold; it is truncated or damaged")
        roles.setdefault(side if cls in ("LSTM", "Bidirectional") else "layer", {})[role] = _array(g[name], name)
    order = {"forward": ("kernel", "recurrent_kernel", "bias"), "backward": ("kernel", "recurrent_kernel", "bias"),
             "layer": ("embeddings", "kernel", "bias")}
    return {side: [d[r] for r in order[side] if r in d] for side, d in roles.items()}


def _member(z: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, read in chunks and cut off at `limit` whatever its header claims."""
    return read_member(z, name, limit, "the .keras archive").getvalue()


def _json(raw, what: str):
    if not isinstance(raw, (str, bytes)):
        raise ModelError(f"{what} is not valid JSON")
    return loads(raw, what)


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
