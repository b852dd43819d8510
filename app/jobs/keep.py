"""Keeping a job's model: it joins the model directory (and so /api/models in every worker) under a label.

The id is made here, `train-<job>-<step>`, never from the name typed. A finished job gives its final
model; a stopped one the weights of its checkpoint. Either way the card is written again so that its
Reproduce section is the job's own command line (plus `--stop-at STEP` for a stopped run, which ends the
command at the same step): run from a gatescope checkout it writes bit-identical weights (to
model.safetensors, or for a stopped run to ckpt.safetensors). The history snapshots up to that step go to
`<model dir>/history/<id>/`, where the explorer's history and compare views look for them.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
from pathlib import Path

from app import service
from app.errors import ApiError
from app.jobs import events, presets
from app.jobs.store import Job
from app.registry import Registry
from lstm_core import Model, load_model, save_model
from lstm_core.train.card import build_meta, card_text
from lstm_core.train.checkpoint import load_checkpoint
from lstm_core.train.history import MANIFEST, read_manifest
from lstm_core.train.loop import Outcome, make_source
from lstm_core.train.model_grad import NetSpec, to_model


def keep(job: Job, name: str, registry: Registry) -> dict:
    """Store the job's model as `train-<job>-<step>` named `name`; its ModelInfo."""
    st, req = job.status(), job.request()
    name = " ".join(name.split())[:80] or req.get("name", "")
    if st.get("state") == "done" and job.model.is_file():
        model = _finished(job, name)
    elif st.get("state") == "stopped" and job.checkpoint.is_file():
        model = _stopped(job, name, st)
    else:
        raise ApiError(409, "nothing_to_keep", "error.train_nothing_to_keep")
    step = model.meta["provenance"]["steps"]
    model_id = f"train-{job.id[:12]}-{step}"
    path = registry.model_dir / f"{model_id}.safetensors"
    _write(model, path)
    path.with_suffix(".md").write_text(model.meta["card"], encoding="utf-8")
    if req.get("task") == presets.TEXT:  # the card's command reads it as corpus.txt
        shutil.copyfile(job.root / "corpus.txt", path.with_suffix(".corpus.txt"))
    _copy_history(job, req, step, registry.model_dir / "history" / model_id)
    job.update(models=sorted({*req.get("models", []), model_id}))
    entry = registry.add(model_id, load_model(path), path)
    return service.model_info(entry)


def _description(req: dict, step: int) -> str:
    c = req["config"]
    what = "the pasted text" if req["task"] == presets.TEXT else f"the {req['task']} task"
    return (f"Trained in the page on {what}: {c['layers']} x {c['hidden']} units, {step} steps, "
            f"learning rate {c['lr']}, seed {c['seed']}.")


def _finished(job: Job, name: str) -> Model:
    """The final model, its card's command made the job's (a resumed run's own would start from a checkpoint)."""
    model = load_model(job.model)
    req, meta = job.request(), dict(model.meta)
    p = {**meta["provenance"], "command": presets.shell(req["args"])}
    meta.update(name=name, description=_description(req, p["steps"]), provenance=p)
    cfg = p["config"]
    spec = NetSpec(model.vocab_size, cfg["hidden_size"], cfg["num_layers"], cfg["input_kind"], cfg["embed_size"],
                   cfg["dropout"])
    meta["card"] = card_text(meta, model.num_parameters, spec)
    return dataclasses.replace(model, meta=meta)


def _stopped(job: Job, name: str, st: dict) -> Model:
    """The checkpoint's weights, with a card whose command stops where this run stopped."""
    params, spec, tokenizer, _, step, _, cfg = load_checkpoint(job.checkpoint)
    req = job.request()
    if cfg.corpus is not None:  # relative to the job's directory, where the job ran
        source = make_source(dataclasses.replace(cfg, corpus=str(job.root / cfg.corpus))).describe
        source["corpus"] = cfg.corpus
    else:
        source = make_source(cfg).describe
    metrics = st.get("metrics") if isinstance(st.get("metrics"), dict) else {}
    out = Outcome(params, spec, tokenizer, cfg, step, metrics=dict(metrics), seconds=float(st.get("elapsed", 0)),
                  interrupted=True, source=source)
    meta = build_meta(out, name, _description(req, step), presets.shell([*req["args"], f"--stop-at={step}"]))
    return to_model(params, spec, tokenizer, meta)


def _write(model: Model, path: Path) -> None:
    """Save under a name no registry lists, then rename into place: no worker ever loads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.keep")
    try:
        save_model(model, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _copy_history(job: Job, req: dict, step: int, dest: Path) -> None:
    run = job.root / req["run"]
    if not (run / MANIFEST).is_file():
        return
    manifest = read_manifest(run)
    manifest["snapshots"] = [s for s in manifest["snapshots"] if s["step"] <= step]
    dest.mkdir(parents=True, exist_ok=True)
    for s in manifest["snapshots"]:
        shutil.copyfile(run / s["file"], dest / s["file"])
    events.write_json(dest / MANIFEST, manifest)
