"""Checkpoints: the weights as a native model file, everything else in a `.optim.safetensors` sidecar.

The model file loads in every view like any other model. The sidecar holds the Adam moments
(`m.<name>`, `v.<name>`), the carried hidden state (`state.h<k>`, `state.c<k>`) and, as JSON
metadata, the step, the Adam step count and the training configuration. Both are written atomically,
sidecar first, and each names the step it belongs to so a mismatched pair is refused.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..modelfile import load_model, save_model
from ..tokenizers import Tokenizer
from .config import TrainConfig
from .model_grad import NetSpec, State, to_model
from .optim import Adam


def sidecar_path(path: str | os.PathLike) -> Path:
    p = Path(path)
    return p.with_name(p.name.removesuffix(".safetensors") + ".optim.safetensors")


def save_checkpoint(path: str | os.PathLike, params: dict[str, NDArray], spec: NetSpec, tokenizer: Tokenizer,
                    opt: Adam, step: int, state: State, cfg: TrainConfig) -> None:
    from safetensors.numpy import save_file

    path = Path(path)
    side = sidecar_path(path)
    tensors = {k: np.ascontiguousarray(v) for k, v in opt.state_tensors().items()}
    for k, (h, c) in enumerate(state):
        tensors[f"state.h{k}"], tensors[f"state.c{k}"] = np.ascontiguousarray(h), np.ascontiguousarray(c)
    info = {"step": step, "adam_t": opt.t, "config": asdict(cfg), "spec": asdict(spec)}
    tmp = side.with_name(f".{side.name}.tmp")
    save_file(tensors, str(tmp), metadata={"gatescope_train": json.dumps(info)})
    os.replace(tmp, side)
    meta = {"name": f"{path.stem} (checkpoint, step {step})",
            "description": f"training checkpoint at step {step} of {cfg.steps}",
            "provenance": {"trainer": "lstm_core.train", "checkpoint_step": step, "config": asdict(cfg)}}
    save_model(to_model(params, spec, tokenizer, meta), path)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, NDArray], NetSpec, Tokenizer, Adam, int, State,
                                                      TrainConfig]:
    """(params, spec, tokenizer, optimizer, step, carried state, config) saved by `save_checkpoint`."""
    from safetensors import SafetensorError, safe_open
    from safetensors.numpy import load_file

    path = Path(path)
    side = sidecar_path(path)
    model = load_model(path)
    try:
        with safe_open(str(side), "np") as fh:
            info = json.loads(fh.metadata()["gatescope_train"])
        tensors = load_file(str(side))
    except (OSError, SafetensorError, KeyError, TypeError, json.JSONDecodeError) as e:
        raise ModelError(f"cannot read the optimizer state {side.name} next to the checkpoint ({e}); "
                         "resume needs both files") from None
    step = info["step"]
    if model.meta.get("provenance", {}).get("checkpoint_step") != step:
        raise ModelError(f"{path.name} and {side.name} come from different steps; they cannot resume together")
    spec = NetSpec(**info["spec"])
    params = {f"lstm.{k}": np.array(v) for k, v in model.lstm.params.items()}
    if model.embedding is not None:
        params["embedding.weight"] = np.array(model.embedding)
    params["decoder.weight"] = np.array(model.decoder_weight)
    params["decoder.bias"] = np.array(model.decoder_bias)
    opt = Adam(lr=info["config"]["lr"])
    opt.load_state_tensors({k: v for k, v in tensors.items() if k[:2] in ("m.", "v.")}, info["adam_t"])
    state = [(tensors[f"state.h{k}"], tensors[f"state.c{k}"]) for k in range(spec.num_layers)]
    return params, spec, model.tokenizer, opt, step, state, TrainConfig(**info["config"])
