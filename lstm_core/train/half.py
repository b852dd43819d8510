"""Store a trained corpus model in float16 and measure it again from the stored weights.

A model over a few thousand characters is large (zh-char, 1 x 512 over 3,001 symbols: 13 MB in
float32); float16 halves it. The metrics on the card must describe the file that ships, so they are
recomputed here from the float16 weights as `load_model` reads them back (upcast to float32), with the
trainer's own evaluation (`CorpusSource.evaluate`: the same validation split, chunks and baselines).

`python -m lstm_core.train.half models/zh-char.safetensors` rewrites the file and its card in place.
"""
from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from pathlib import Path

from ..model import Model
from ..modelfile import load_model, save_model
from .card import card_text
from .model_grad import NetSpec
from .sources import CorpusSource


def params_and_spec(model: Model) -> tuple[dict, NetSpec]:
    """The trainer's flat parameter dict and NetSpec of a one-direction character model."""
    cfg = model.lstm.config
    params = {f"lstm.{k}": v for k, v in model.lstm.params.items()}
    params["decoder.weight"], params["decoder.bias"] = model.decoder_weight, model.decoder_bias
    if model.embedding is not None:
        params["embedding.weight"] = model.embedding
    spec = NetSpec(model.vocab_size, cfg.hidden_size, cfg.num_layers, model.input_kind,
                   model.embedding.shape[1] if model.embedding is not None else 0)
    return params, spec


def store_half(path: Path) -> dict:
    """Rewrite the corpus model at `path` in float16 with metrics measured on what was stored."""
    model = load_model(path)
    prov = dict(model.meta["provenance"])
    cfg = prov["config"]
    if cfg.get("corpus") is None:
        raise SystemExit(f"{path} was not trained on a corpus; nothing to re-measure")
    save_model(model, path, float16=True)
    half = load_model(path)  # float16 values, read back as float32
    params, spec = params_and_spec(half)
    source = CorpusSource(cfg["corpus"], cfg["batch"], cfg["seq_len"], cfg["seed"], cfg["val_fraction"],
                          vocab=tuple(half.tokenizer.vocab))
    before = model.meta["metrics"]
    metrics = {**source.evaluate(params, spec), "float32_val_loss": before.get("float32_val_loss", before["val_loss"]),
               "train_loss_last_step": before["train_loss_last_step"], "stored_as": "float16"}
    step = f"python -m lstm_core.train.half {shlex.quote(str(path))}"
    if step not in prov["command"]:
        prov["command"] += f"\n{step}"
    meta = dict(half.meta, provenance=prov, metrics=metrics)
    meta["card"] = card_text(meta, sum(int(v.size) for v in params.values()), spec)
    save_model(replace(half, meta=meta), path, float16=True)
    path.with_suffix(".md").write_text(meta["card"], encoding="utf-8")
    return metrics


if __name__ == "__main__":
    print(store_half(Path(sys.argv[1])))
