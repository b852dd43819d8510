"""Keras layer configs and weights to torch names: Embedding?, LSTM or Bidirectional(LSTM) layers, Dense?.

The final Dense (or TimeDistributed(Dense)) is the head. After an LSTM with return_sequences=False it
reads one vector per text (Keras's last output: each direction's final state), so the file itself says
"classifier"; after return_sequences=True it reads every step (a tagger or a next-token decoder).

Keras keeps kernel (in, 4U), recurrent_kernel (U, 4U) and one bias (4U,), gate columns i|f|c|o,
which is torch's i|f|g|o: transposing is the whole conversion; the bias goes to bias_ih and bias_hh
is zero. `hard_sigmoid` is clip(0.2x + 0.5, 0, 1) before Keras 3 and relu6(x + 3) / 6 from Keras 3.
"""
from __future__ import annotations

import re

import numpy as np

from ..activations import HARD_SIGMOID_KERAS2, HARD_SIGMOID_KERAS3, Activation, parse
from ..errors import ModelError
from ..lstm import LSTM
from .parts import Parts, as_float, unify_dtype

# Layers that are the identity at inference time.
_PASS = {"InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "ActivityRegularization"}
_ACTS = {"sigmoid", "tanh", "relu", "linear", "softsign", "softplus", "hard_sigmoid", "elu"}
_HEAD_ACTS = ("linear", "softmax", "sigmoid")


def build(found: list, version: str, source: dict) -> Parts:
    """Walk the layers in order: Embedding?, LSTM or Bidirectional(LSTM) layers, Dense?."""
    major = int(m.group()) if (m := re.match(r"\d+", version)) else 3
    emb, dense, lstms, ignored, head_act = None, None, [], [], None
    for cls, cfg, w in found:
        label = f"layer {cfg.get('name', '?')!r} ({cls})"
        if cls in ("Activation", "Softmax") and dense is not None and head_act is not None:
            act = cfg.get("activation", "softmax")
            if act not in _HEAD_ACTS or (act != "linear" and head_act != "linear"):
                raise ModelError(f"{label} applies {act!r} after the Dense layer; gatescope reads a head's "
                                 "outputs through one softmax or sigmoid")
            head_act = act if act != "linear" else head_act
            continue
        if cls in _PASS:
            ignored += [label] if cls not in ("InputLayer",) else []
            continue
        if cls == "TimeDistributed" and (cfg.get("layer") or {}).get("class_name") == "Dense":
            cls, cfg = "Dense", {**cfg["layer"].get("config", {}), "name": cfg.get("name")}
        if cls == "Embedding" and not lstms and emb is None:
            emb = as_float(w["layer"][0], label)
        elif cls in ("LSTM", "Bidirectional") and dense is None:
            lstms.append(_lstm_layer(cls, cfg, w, label, major))
        elif cls == "Dense" and lstms and dense is None:
            head_act = cfg.get("activation") or "linear"
            if isinstance(head_act, dict):  # Keras 3 may serialize a built-in as {"module": ..., "config": name}
                head_act = head_act.get("config")
            if head_act not in _HEAD_ACTS:
                raise ModelError(f"{label} uses activation {head_act!r}; gatescope reads a final Dense as logits "
                                 "(linear), or through softmax or sigmoid")
            kb = w["layer"]
            dense = (as_float(kb[0], label), as_float(kb[1], label) if len(kb) > 1 else None)
        elif cls in ("Sequential", "Functional", "Model"):
            raise ModelError(f"{label} is a nested model; gatescope reads one flat stack of layers")
        else:
            raise ModelError(f"{label} is not supported here: gatescope imports Embedding, then LSTM or "
                             "Bidirectional(LSTM) layers, then one Dense or TimeDistributed(Dense)")
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
    hint = {}
    if dense:
        if head_act != "linear":  # linear logits: heads.choose decides (softmax, or sigmoid for one output)
            hint["activation"] = head_act
        if not lstms[-1]["return_sequences"]:
            hint.update(kind="classifier", pool="final", why="the last LSTM returns no sequences "
                        "(return_sequences=False), so the Dense reads one vector per text: Keras's last output, "
                        "each direction's final hidden state")
    src = {"framework": f"keras {version}", **source}
    ref = {"layers": lstms, "keras2": major < 3, "dense": dense}
    dec_w, dec_b = (dense[0].T, dense[1]) if dense else (None, None)
    return Parts("keras", lstm, emb, dec_w, dec_b, src, ignored, reference=ref, head_hint=hint)


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


def layer_configs(config) -> list[tuple[str, dict]]:
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
