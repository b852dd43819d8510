"""PyTorch state dicts: `.safetensors` (read without torch, executes nothing) and `.pt`/`.pth`.

A `.pt` file is a pickle; it is opened only through `torch.load(weights_only=True)`, whose
unpickler refuses every global that is not a tensor building block, and only when torch is
installed. Names: `nn.LSTM` (`weight_ih_l{k}[_reverse]` ...) or `nn.LSTMCell` (`weight_ih` ...),
under any prefix such as `lstm.` or `rnn.`. Gate rows are already torch's i|f|g|o: no reordering.
An embedding (V, input_size) and a linear decoder (V, D*H_out) are found by shape and name, or
named with `mapping={"lstm": prefix, "embedding": name, "decoder": name}`.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..lstm import LSTM
from ..modelfile import read_header
from .parts import Parts, as_float, check_zip, unify_dtype

_PARAM = re.compile(r"^(?P<pre>(?:.*\.)?)(?P<kind>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
                    r"(?P<sfx>_l\d+(?:_reverse)?)?$")
_EMB = re.compile(r"emb|encoder|wte|lookup|token", re.I)
_DEC = re.compile(r"decoder|fc|linear|out|head|classifier|proj|dense|logit", re.I)
_ST_DTYPES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I8": 1, "U8": 1, "I16": 2, "I32": 4, "I64": 8, "BOOL": 1}


def read_safetensors(path: Path) -> tuple[dict, dict]:
    """(tensors, metadata) after checking the header against the file size."""
    from safetensors import SafetensorError, safe_open

    header, meta = read_header(path, dtypes=_ST_DTYPES)
    tensors = {}
    try:
        with safe_open(str(path), framework="np") as f:
            for name, e in header.items():
                if e["dtype"] == "BF16":
                    raise ModelError(f"tensor {name!r} is bfloat16, which NumPy cannot read; save float32")
                tensors[name] = f.get_tensor(name)
    except SafetensorError as e:
        raise ModelError(f"{path.name}: cannot read tensors ({e})") from None
    return tensors, meta


def read_pt(path: Path) -> dict:
    """A state dict from a torch pickle, through the weights-only unpickler only."""
    try:
        import torch
    except ImportError:
        raise ModelError(f"{path.name} is a PyTorch pickle and torch is not installed here; gatescope never "
                         "unpickles without torch's weights-only loader. Save the state dict with "
                         "safetensors.torch.save_file instead.", "core.no_torch", file=path.name) from None
    if zipfile.is_zipfile(path):  # torch.save's format since 1.6: refuse bombs before torch inflates them
        try:
            z = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ModelError(f"{path.name} is a damaged zip archive; it may be truncated") from None
        with z:
            check_zip(z, path.name)
    try:
        # A file object, not the path: torch.load hands a path ending in .safetensors to safetensors.
        with open(path, "rb") as fh:
            obj = torch.load(fh, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError... for bad files
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"{path.name}: torch.load(weights_only=True) refused the file ({first[:300]}). "
                         "gatescope reads state dicts only: save model.state_dict(), not the model object.",
                         "core.pickle_refused", file=path.name, reason=first[:300]) from None
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj:
        raise ModelError(f"{path.name} does not hold a state dict (got {type(obj).__name__}); "
                         "save model.state_dict()")
    return {k: v for k, v in obj.items() if hasattr(v, "detach")}


def from_state_dict(sd: dict, mapping: dict | None = None, source: dict | None = None) -> Parts:
    """Find the LSTM, embedding and decoder in a flat state dict of NumPy arrays or tensors."""
    mapping = dict(mapping or {})
    sd = {k: (v.detach().cpu().float().numpy() if hasattr(v, "detach") and str(v.dtype) == "torch.bfloat16"
              else v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v)) for k, v in sd.items()}
    groups: dict[str, list[str]] = {}
    for k in sd:
        m = _PARAM.match(k)
        if m:
            groups.setdefault(m["pre"], []).append(k)
    if "lstm" in mapping:
        pre = mapping.pop("lstm").rstrip(".")
        pre = pre + "." if pre else ""
        if pre not in groups:
            raise ModelError(f"no LSTM parameters under {pre!r}; found: {_names(groups)}")
    elif len(groups) == 1:
        pre = next(iter(groups))
    elif not groups:
        raise ModelError("no LSTM weights found: expected nn.LSTM names such as weight_ih_l0 "
                         "or nn.LSTMCell names such as weight_ih", "core.no_lstm")
    else:
        raise ModelError(f"several LSTM modules found ({_names(groups)}); choose one with --map lstm=<prefix>")
    cell = all(_PARAM.match(k)["sfx"] is None for k in groups[pre])
    if not cell and any(_PARAM.match(k)["sfx"] is None for k in groups[pre]):
        raise ModelError(f"the parameters under {pre!r} mix nn.LSTM and nn.LSTMCell names")
    params = {}
    for k in groups[pre]:
        m = _PARAM.match(k)
        params[m["kind"] + (m["sfx"] or "_l0")] = as_float(sd[k], k)
    w_hh = params.get("weight_hh_l0")
    if w_hh is not None and w_hh.ndim == 2 and "weight_hr_l0" not in params and w_hh.shape[0] != 4 * w_hh.shape[1]:
        raise ModelError(f"weight_hh has {w_hh.shape[0]} rows for a hidden size of {w_hh.shape[1]}; an LSTM has "
                         f"4 x hidden rows (a GRU has 3 x), so this is not an LSTM")
    original = dict(params)
    lstm = LSTM.from_torch_state_dict(unify_dtype(params))
    cfg = lstm.config
    used = set(groups[pre])
    rest = {k: v for k, v in sd.items() if k not in used}
    emb_key = _pick(rest, mapping.pop("embedding", None), cfg.input_size, _EMB, _DEC, "embedding")
    dec_rest = {k: v for k, v in rest.items() if k != emb_key}
    dec_key = _pick(dec_rest, mapping.pop("decoder", None), cfg.num_directions * cfg.output_size, _DEC, _EMB,
                    "decoder")
    if mapping:
        raise ModelError(f"unknown --map roles {', '.join(mapping)}; roles are lstm, embedding, decoder")
    emb = as_float(rest[emb_key], emb_key) if emb_key else None
    dec_w = as_float(rest[dec_key], dec_key) if dec_key else None
    bias_key = dec_key[: -len("weight")] + "bias" if dec_key and dec_key.endswith("weight") else None
    dec_b = as_float(rest[bias_key], bias_key) if bias_key in rest else None
    if dec_b is not None and dec_b.shape != (dec_w.shape[0],):
        dec_b, bias_key = None, None
    ignored = sorted(set(rest) - {emb_key, dec_key, bias_key})
    src = {"framework": "pytorch", "module": "LSTMCell" if cell else "LSTM", "prefix": pre,
           "embedding": emb_key, "decoder": dec_key, **(source or {})}
    return Parts("torch", lstm, emb, dec_w, dec_b, src, ignored,
                 reference={"cell": cell, "params": original, "decoder": (dec_w, dec_b)})


def _pick(rest: dict, named: str | None, cols: int, prefer: re.Pattern, avoid: re.Pattern, role: str) -> str | None:
    """The key of the 2-D weight playing `role`: the mapped one, else the unambiguous candidate."""
    if named:
        for k in (named, named + ".weight", named.rstrip(".") + ".weight"):
            if k in rest and np.ndim(rest[k]) == 2:
                if np.shape(rest[k])[1] != cols:
                    raise ModelError(f"{k} has shape {np.shape(rest[k])}; a {role} here needs {cols} columns")
                return k
        raise ModelError(f"--map {role}={named}: no such 2-D weight; candidates: {', '.join(sorted(rest)[:8])}")
    cands = [k for k, v in rest.items() if k.endswith("weight") and np.ndim(v) == 2 and np.shape(v)[1] == cols]
    liked = [k for k in cands if prefer.search(k)]
    if len(liked) == 1:
        return liked[0]
    if len(liked) > 1:
        raise ModelError(f"several tensors could be the {role} ({', '.join(liked)}); choose with --map {role}=NAME")
    neutral = [k for k in cands if not avoid.search(k)]
    if len(neutral) == 1:
        return neutral[0]
    if len(neutral) > 1:
        raise ModelError(f"several tensors could be the {role} ({', '.join(neutral)}); choose with --map {role}=NAME")
    return None


def _names(groups: dict) -> str:
    return ", ".join(repr(p or "(no prefix)") for p in sorted(groups))
