"""Training history: the weights every N steps as native model files, for watching the gates form.

`<dir>/step-000050.safetensors`, ... each load like any model (its card says which step of which
run it is), and the last is the run's final weights. `<dir>/history.json` lists them in order with the
metrics measured at that step (the source's own held-out evaluation and the step's training loss).
A resumed run keeps appending to the same manifest; a snapshot is written atomically.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from numpy.typing import NDArray

from ..modelfile import save_model
from ..tokenizers import Tokenizer
from .config import TrainConfig
from .model_grad import NetSpec, to_model

MANIFEST = "history.json"


def snapshot_name(step: int) -> str:
    return f"step-{step:06d}.safetensors"


def read_manifest(directory: str | os.PathLike) -> dict:
    """The manifest of a history directory: {"name", "config", "snapshots": [{"step", "file", "metrics"}]}."""
    return json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))


def save_snapshot(directory: str | os.PathLike, name: str, params: dict[str, NDArray], spec: NetSpec,
                  tokenizer: Tokenizer, step: int, metrics: dict, cfg: TrainConfig) -> Path:
    """Write the weights after `step` and add them to the manifest (replacing an entry of the same step)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / snapshot_name(step)
    summary = ", ".join(f"{k} {v}" for k, v in metrics.items() if not isinstance(v, dict))
    card = (f"# {name}, step {step}\n\nThe weights of `{name}` after {step} of {cfg.steps} training steps, "
            f"saved for a training-history view. Metrics at this step: {summary}.\n")
    meta = {"name": f"{name} (step {step})", "description": f"{name} after {step} training steps",
            "provenance": {"trainer": "lstm_core.train", "history_step": step, "config": asdict(cfg)},
            "metrics": dict(metrics), "card": card}
    save_model(to_model(params, spec, tokenizer, meta), path)
    manifest_path = d / MANIFEST
    manifest = (read_manifest(d) if manifest_path.exists()
                else {"name": name, "config": asdict(cfg), "snapshots": []})
    snaps = [s for s in manifest["snapshots"] if s["step"] != step]
    snaps.append({"step": step, "file": path.name, "metrics": dict(metrics)})
    manifest["snapshots"] = sorted(snaps, key=lambda s: s["step"])
    tmp = d / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, manifest_path)
    return path
