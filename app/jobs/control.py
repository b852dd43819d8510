"""What the training routes share: checking a request against the limits, starting, resuming, describing.

    job = control.start(req, client, settings)      # 413/422 for what is too big or wrong, 429 when full
    control.describe(job, lang)                      # the TrainStatus fields
    control.resume(job, client, settings)

A client is the browser's `gs_client` cookie (random, set by the first POST /api/train), else its address:
a classroom behind one NAT shares an address, and a cookie tells its students apart. Dropping the cookie
gets a new one, so the per-client limit is fairness among honest browsers; the server-wide limit is what
bounds the machine's load whatever clients do.
"""
from __future__ import annotations

import time
from pathlib import Path

from app.errors import ApiError
from app.i18n import translate
from app.jobs import events, presets, runner, store
from app.jobs.schemas import TrainRequest
from app.settings import Settings
from lstm_core.tasks import TASKS

RETRY_AFTER = {"Retry-After": "30"}


def jobs_dir(settings: Settings) -> Path:
    return Path(settings.var_dir) / "jobs"


def options(settings: Settings) -> dict:
    """The TrainOptions: tasks with their defaults, and the limits."""
    tasks = []
    for name, p in presets.PRESETS.items():
        description = TASKS[name].description if name in TASKS else ""
        defaults = {"layers": p.layers, "hidden": p.hidden, "steps": p.steps, "lr": p.lr, "seed": 0}
        if name == "text" or name in TASKS:
            tasks.append({"name": name, "description": description, "defaults": defaults, "probe": p.probe})
    return {"enabled": settings.train and settings.train_jobs > 0, "tasks": tasks, "limits": limits(settings)}


def limits(s: Settings) -> dict:
    return {"layers": s.train_max_layers, "hidden": s.train_max_hidden, "steps": s.train_max_steps,
            "parameters": s.train_max_parameters, "text_bytes": s.train_max_text_bytes,
            "seconds": s.train_max_seconds, "jobs": s.train_jobs, "jobs_per_client": s.train_jobs_per_client}


def _check(req: TrainRequest, s: Settings) -> tuple[str, dict, str]:
    """(task, config, probe) for a request within the limits, or the ApiError that says which is not."""
    if not (s.train and s.train_jobs > 0):
        raise ApiError(403, "training_off", "error.train_off")
    task = presets.task_name(req.task)
    if task is None:
        raise ApiError(422, "unknown_task", "error.train_task", got=repr(req.task)[:60],
                       tasks=", ".join([*TASKS, presets.TEXT]))
    p = presets.PRESETS[task]
    cfg = {"layers": req.layers or p.layers, "hidden": req.hidden or p.hidden, "steps": req.steps or p.steps,
           "lr": req.lr or p.lr, "seed": req.seed, "batch": p.batch}
    for field, most, code in (("layers", s.train_max_layers, "too_many_layers"),
                              ("hidden", s.train_max_hidden, "too_many_units"),
                              ("steps", s.train_max_steps, "too_many_steps")):
        if cfg[field] > most:
            raise ApiError(413, code, f"error.train_{field}", got=f"{cfg[field]:,}", max=f"{most:,}")
    probe = req.probe or p.probe
    if task == presets.TEXT:
        text = req.text or ""
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > s.train_max_text_bytes:
            raise ApiError(413, "text_too_long", "error.train_text_long", got=f"{size:,}",
                           max=f"{s.train_max_text_bytes:,}")
        need = presets.min_text(p, p.batch)
        if len(text) < need:
            raise ApiError(422, "text_too_short", "error.train_text_short", got=f"{len(text):,}", need=f"{need:,}")
        probe = req.probe or text.strip().splitlines()[0][: presets.MAX_PROBE]
    elif req.text:
        raise ApiError(422, "text_with_task", "error.train_text_with_task", task=task)
    n = presets.parameters(presets.vocab_size(task, req.text), cfg["hidden"], cfg["layers"])
    if n > s.train_max_parameters:
        raise ApiError(413, "too_many_parameters", "error.train_parameters", got=f"{n:,}",
                       max=f"{s.train_max_parameters:,}")
    return task, cfg, probe


def _admit(d: Path, client: str, s: Settings) -> None:
    """429 when the server or this client runs as many jobs as allowed (call under store.admission)."""
    active = [j for j in store.every(d) if j.status().get("state") in events.ACTIVE]
    if len(active) >= s.train_jobs:
        raise ApiError(429, "server_busy", "error.train_busy", count=s.train_jobs, headers=RETRY_AFTER)
    if sum(j.request().get("client") == client for j in active) >= s.train_jobs_per_client:
        raise ApiError(429, "client_busy", "error.train_client_busy", count=s.train_jobs_per_client,
                       headers=RETRY_AFTER)


def start(req: TrainRequest, client: str, s: Settings) -> store.Job:
    """Check, admit and start a job; its process runs from now on."""
    task, cfg, probe = _check(req, s)
    d = jobs_dir(s)
    with store.admission(d):
        store.prune(d, s.train_keep_jobs, s.train_keep_hours * 3600)
        _admit(d, client, s)
        job = store.new_job(d)
        run = f"{task}-{job.id[:6]}"
        name = " ".join((req.name or "").split())[:80] or run
        args = presets.command(task, cfg["layers"], cfg["hidden"], cfg["steps"], cfg["lr"], cfg["seed"], name, run)
        if task == presets.TEXT:
            (job.root / "corpus.txt").write_text(req.text, encoding="utf-8")
        job.update(id=job.id, name=name, task=task, config=cfg, probe=probe, client=client, created=time.time(),
                   args=args, run=run, models=[])
        events.write_json(job.status_json, {"state": "starting", "step": 0, "steps": cfg["steps"]})
        runner.spawn(job, args, probe, s)
    return job


def resume(job: store.Job, client: str, s: Settings) -> None:
    """Continue a stopped job from its checkpoint (from the start if it stopped before its first one)."""
    if job.status().get("state") != "stopped":
        raise ApiError(409, "not_stopped", "error.train_not_stopped")
    with store.admission(job.root.parent):
        _admit(job.root.parent, client, s)
        req = job.request()
        args = req["args"]
        if job.checkpoint.is_file():
            args = ["train", "--resume", "ckpt.safetensors", "--checkpoint", "ckpt.safetensors", "--out",
                    "model.safetensors", "--threads=1", "--no-progress"]
        runner.spawn(job, args, req.get("probe", ""), s)


def describe(job: store.Job, lang: str) -> dict:
    """The TrainStatus of a job, its sentence in `lang`."""
    req, st = job.request(), job.status()
    detail = st.get("detail")
    if st.get("key"):
        detail = translate(lang, st["key"], **st.get("params", {}))
    created = req.get("created", time.time())
    ended = st.get("ended") if st.get("state") in events.TERMINAL else None
    return {
        "id": job.id, "name": req.get("name", ""), "task": req.get("task", ""), "config": req.get("config", {}),
        "probe": req.get("probe", ""), "state": st.get("state", "starting"), "step": st.get("step", 0),
        "steps": st.get("steps") or req.get("config", {}).get("steps", 0), "loss": st.get("loss"),
        "accuracy": st.get("accuracy"), "metrics": st.get("metrics") or {}, "tok_s": st.get("tok_s"),
        "elapsed": round((ended or time.time()) - created, 2), "cpu": st.get("cpu"), "detail": detail,
        "command": presets.shell(req.get("args", [])), "models": req.get("models", []),
        "events": f"/api/train/{job.id}/events",
    }
