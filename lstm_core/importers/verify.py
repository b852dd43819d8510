"""Proof for every import: run the model in its own framework and in gatescope, compare.

The probe is a fixed random input (batch 2, 7 steps, N(0, 1) features, seed 0) fed to the LSTM;
the record holds the maximum absolute difference of the output sequence, the final h and c of every
layer and direction, and the head's probabilities when there is one ("probs": per position for a
next-token decoder or a tagger, one distribution per sequence for a classifier). References:
- torch: `nn.LSTM` / `nn.LSTMCell` with the file's own tensors loaded by `load_state_dict`;
- keras: Keras's own `LSTM` / `Bidirectional` layers rebuilt from the file's config and raw weights
  (the user's model object is never deserialized); Keras 2's hard_sigmoid is passed as clip(0.2x+0.5);
- onnx: onnxruntime running the file's graph itself, with the LSTM nodes' tensors exposed as outputs,
  so the glue between layers is checked too (onnx_reference.py); an int8 graph is checked exactly
  through a float twin holding the dequantized weights, and the int8 graph itself is reported under
  "int8" with its own bound.
A reader's "caveats" (what the comparison cannot cover, such as cuDNN's layout or assumed activations)
are copied into the record. Without the framework the record says what could not be verified instead
of guessing.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..model import Model
from .parts import Parts

BATCH, STEPS, SEED = 2, 7, 0
TOLERANCE = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}


def verify(parts: Parts, model: Model) -> dict:
    """The verification record stored in the model's meta and card."""
    runner = {"torch": _torch, "keras": _keras, "onnx": _onnx}[parts.fmt]
    try:
        framework, ref = runner(parts, model)
    except _Missing as e:
        return {"verified": False, "framework": None, "reason": str(e)}
    except ModelError as e:  # the framework itself could not run the file
        return {"verified": False, "framework": parts.fmt, "passed": False, "reason": str(e)}
    x, lengths, ref_int8 = ref.pop("_x"), ref.pop("_lengths", None), ref.pop("_int8", None)
    ours = _ours(model, x, lengths)
    diffs = {k: _diff(v, ours[k]) for k, v in ref.items() if v is not None}
    mismatched = sorted(k for k, d in diffs.items() if d is None)
    worst = max((d for d in diffs.values() if d is not None), default=0.0)
    tol = TOLERANCE[np.dtype(model.lstm.dtype)]
    record = {"verified": True, "framework": framework, "reference": _REFERENCE[parts.fmt],
              "probe": {"batch": x.shape[0], "steps": x.shape[1], "seed": SEED, "dtype": str(model.lstm.dtype)},
              "max_abs_diff": diffs, "max": worst, "tolerance": tol, "passed": bool(worst <= tol and not mismatched)}
    if lengths is not None:
        record["probe"]["lengths"] = [int(n) for n in lengths]
    if mismatched:
        record["shape_mismatch"] = mismatched
    if ref_int8 is not None:  # the int8 graph itself, which rounds activations: reported beside, with its own bound
        d8 = {k: _diff(v, ours[k]) for k, v in ref_int8.items() if v is not None and not k.startswith("_")}
        worst8 = max((d for d in d8.values() if d is not None), default=float("inf"))
        tol8 = parts.reference["int8_tolerance"]
        record["int8"] = {"max_abs_diff": d8, "max": worst8, "tolerance": tol8, "within": bool(worst8 <= tol8)}
    caveats = (parts.reference or {}).get("caveats")
    if caveats:
        record["caveats"] = list(caveats)  # what the comparison could not cover, or covered another way
    return record


_REFERENCE = {
    "torch": "torch.nn.LSTM (or LSTMCell) holding the file's tensors",
    "keras": "Keras LSTM layers rebuilt from the file's config and raw weights",
    "onnx": "onnxruntime running the file's graph",
}


class _Missing(Exception):
    """The framework is not installed; the message says what could not be verified."""


def _diff(theirs, ours) -> float | None:
    """Max abs difference; None when the shapes disagree (the import misread the model's structure)."""
    theirs = np.asarray(theirs, np.float64)
    if ours is None or theirs.shape != np.shape(ours):
        return None
    return float(np.max(np.abs(theirs - ours)))


def probe(input_size: int, dtype) -> np.ndarray:
    return np.random.default_rng(SEED).standard_normal((BATCH, STEPS, input_size)).astype(dtype)  # (B, T, D)


def _ours(model: Model, x: np.ndarray, lengths=None) -> dict:
    tr = model.lstm.trace(x, lengths=lengths)
    probs = model.outputs(tr)
    return {"output": tr.output, "h_n": tr.h_n, "c_n": tr.c_n, "probs": probs}


def _torch(parts: Parts, model: Model):
    try:
        import torch
    except ImportError:
        raise _Missing("torch is not installed here, so the import was not run in PyTorch; "
                       "the weights were converted by name only") from None
    cfg, ref = model.lstm.config, parts.reference
    x = probe(cfg.input_size, model.lstm.dtype)
    tdt = torch.float64 if x.dtype == np.float64 else torch.float32
    sd = {k: torch.from_numpy(np.ascontiguousarray(v)).to(tdt) for k, v in ref["params"].items()}
    with torch.no_grad():
        if ref["cell"]:
            cell = torch.nn.LSTMCell(cfg.input_size, cfg.hidden_size, bias=cfg.bias).to(tdt)
            cell.load_state_dict({k.removesuffix("_l0"): v for k, v in sd.items()})
            h = c = torch.zeros(BATCH, cfg.hidden_size, dtype=tdt)
            outs = []
            for t in range(STEPS):
                h, c = cell(torch.from_numpy(x[:, t]), (h, c))
                outs.append(h)
            out, h_n, c_n = torch.stack(outs, 1), h[:, None], c[:, None]
        else:
            m = torch.nn.LSTM(cfg.input_size, cfg.hidden_size, cfg.num_layers, bias=cfg.bias, batch_first=True,
                              bidirectional=cfg.bidirectional, proj_size=cfg.proj_size).to(tdt)
            m.load_state_dict(sd)
            out, (h_n, c_n) = m(torch.from_numpy(x))
            h_n, c_n = h_n.transpose(0, 1), c_n.transpose(0, 1)  # (B, L*D, .)
        probs = None
        if model.head is not None:
            w, b = ref["decoder"]
            probs = _torch_head(torch, model.head, out, h_n, cfg.num_directions, torch.from_numpy(w).to(tdt),
                                None if b is None else torch.from_numpy(b).to(tdt))
    return f"torch {torch.__version__}", {"output": out.numpy(), "h_n": h_n.numpy(), "c_n": c_n.numpy(),
                                          "probs": probs, "_x": x}


def _torch_head(torch, head, out, h_n, D: int, w, b):
    """The head as torch code reads it: Linear over every output step (next token, tagger), or over
    torch.cat of the last layer's final h of each direction (classifier "final"), or over output[:, -1]."""
    if head.per_position:
        feats = out  # (B, T, D*H_out)
    elif head.pool == "final":
        feats = torch.cat([h_n[:, -D + d] for d in range(D)], dim=1)  # h_n (B, L*D, H_out): cat(h_n[-2], h_n[-1])
    else:
        feats = out[:, -1]
    logits = torch.nn.functional.linear(feats, w, b)
    return (torch.sigmoid(logits) if head.activation == "sigmoid" else torch.softmax(logits, -1)).numpy()


def _keras(parts: Parts, model: Model):
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")  # the numpy backend cannot run LSTMs without jax
    try:
        import keras
    except Exception as e:  # ImportError, or a backend that is not installed
        raise _Missing(f"Keras could not be imported here ({type(e).__name__}), so the import was not run in "
                       "Keras; the weights were converted from the file's config only") from None
    ref, lstm = parts.reference, model.lstm
    x = probe(lstm.config.input_size, lstm.dtype)
    dt = str(lstm.dtype)

    def act(name: str):
        return _keras2_hard_sigmoid(keras) if name == "hard_sigmoid" and ref["keras2"] else name

    def rebuilt(layer, inp, sequences: bool):
        cell = keras.layers.LSTM(layer["units"], activation=act(layer["activation"]), dtype=dt,
                                 recurrent_activation=act(layer["recurrent_activation"]),
                                 use_bias=layer["use_bias"], return_sequences=sequences, return_state=True)
        k = keras.layers.Bidirectional(cell) if layer["bidirectional"] else cell
        k(inp)  # builds the weights, which are then replaced by the file's
        k.set_weights([w for direction in layer["weights"] for w in direction])
        return k

    h, hs, cs = keras.ops.convert_to_tensor(x), [], []
    for layer in ref["layers"]:
        res = [keras.ops.convert_to_numpy(r) for r in rebuilt(layer, h, True)(h)]
        last_in, h = h, keras.ops.convert_to_tensor(res[0])
        hs += res[1::2]
        cs += res[2::2]
    out = keras.ops.convert_to_numpy(h)
    probs = None
    if ref.get("dense") is not None:
        # The head as Keras runs it: a Dense layer holding the file's kernel, after every step, or (when the
        # last LSTM returned no sequences) after Keras's own last output of that layer, rebuilt so. What the
        # file's config says decides; a weights-only file records nothing, so the head chosen is assumed.
        head = model.head
        sequences = ref["layers"][-1]["return_sequences"] if ref.get("config", True) else head.per_position
        feats = h if sequences else rebuilt(ref["layers"][-1], last_in, False)(last_in)[0]
        kern, bias = ref["dense"]
        dense = keras.layers.Dense(kern.shape[1], activation=head.activation, use_bias=bias is not None,
                                   dtype=dt)
        dense(feats)
        dense.set_weights([kern] + ([bias] if bias is not None else []))
        probs = keras.ops.convert_to_numpy(dense(feats))
    return f"keras {keras.__version__} ({keras.backend.backend()} backend)", {
        "output": out, "h_n": np.stack(hs, 1), "c_n": np.stack(cs, 1), "probs": probs, "_x": x}


def _keras2_hard_sigmoid(keras):
    """Keras 2's hard_sigmoid as a registered function: Bidirectional clones its layer by serializing it."""
    name = "gatescope>keras2_hard_sigmoid"
    fn = keras.saving.get_registered_object(name)
    if fn is None:
        def keras2_hard_sigmoid(t):
            return keras.ops.clip(0.2 * t + 0.5, 0.0, 1.0)

        fn = keras.saving.register_keras_serializable("gatescope")(keras2_hard_sigmoid)
    return fn


def _onnx(parts: Parts, model: Model):
    try:
        import onnxruntime as ort
    except ImportError:
        raise _Missing("onnxruntime is not installed here, so the graph was not run; "
                       "the LSTM nodes were converted from their attributes and tensors only") from None
    from .onnx_reference import run_reference

    ref = parts.reference
    if not ref.get("float_twin"):
        return f"onnxruntime {ort.__version__}", run_reference(ref, ort)
    twin = run_reference(ref, ort, float_twin=True)
    twin["_int8"] = run_reference(ref, ort)  # same feeds (seeded), so the same probe
    return f"onnxruntime {ort.__version__}", twin
