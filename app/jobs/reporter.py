"""Inside a training process: what `python -m app train --events FILE --probe TEXT` tells its watchers.

`Reporter` is the `observe` callback of `lstm_core.train.train`. It appends to the event log (app/jobs/events):

    {"type": "start", "step": 0, "steps": 1000, "elapsed": 0.0}
    {"type": "progress", "steps": [41, 42, ...], "loss": [0.93, 0.91, ...], "tok_s": 5210.0, "elapsed": 3.2}
    {"type": "snapshot", "step": 60, "metrics": {"accuracy": 0.4, "train_loss": 0.61}, "probe": <trace>}
    {"type": "done" | "stopped" | "failed", "step": 300, ...}

Progress is batched, at most PROGRESS_SECONDS apart, so a fast run (hundreds of steps a second) costs its
watchers a few events a second and still draws every step's loss. At each history snapshot the probe
sentence is traced by the snapshot's own file, as the explorer would load it, and encoded by
app/serialize.py exactly as /api/trace encodes it (compact). status.json beside the log holds the latest
numbers for GET /api/train/{id}.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

from app.jobs import events
from app.serialize import trace_body
from app.service import TraceResult
from lstm_core import ModelError, load_model

PROGRESS_SECONDS = 0.25


class Reporter:
    """Writes a run's events and status; call it as `observe(kind, info)`, then `finish(state, ...)` once."""

    def __init__(self, log: Path, probe: str | None) -> None:
        self.log, self.probe = Path(log), probe or None
        self.status_path = self.log.with_name("status.json")
        self.t0 = time.monotonic()
        self.status: dict = {"state": "running", "step": 0, "steps": 0, "loss": None, "accuracy": None,
                             "metrics": {}, "tok_s": None, "pid": os.getpid()}
        self.pending: dict[str, list] = {"steps": [], "loss": []}
        self.window = [0, 0.0]  # tokens and seconds since the last progress event
        self.last_flush = 0.0

    def elapsed(self) -> float:
        return round(time.monotonic() - self.t0, 2)

    def __call__(self, kind: str, info: dict) -> None:
        if kind == "start":
            self.status.update(step=info["step"], steps=info["steps"])
            events.append(self.log, {"type": "start", "step": info["step"], "steps": info["steps"], "elapsed": 0.0})
            self._write_status()
        elif kind == "step":
            self.pending["steps"].append(info["step"])
            self.pending["loss"].append(round(float(info["loss"]), 5))
            self.window[0] += info["tokens"]
            self.window[1] += info["seconds"]
            self.status.update(step=info["step"], loss=round(float(info["loss"]), 5))
            if time.monotonic() - self.last_flush >= PROGRESS_SECONDS:
                self.flush()
        elif kind == "snapshot":
            self.flush()
            metrics = info["metrics"]
            self.status["metrics"] = metrics
            if isinstance(metrics.get("accuracy"), (int, float)):
                self.status["accuracy"] = metrics["accuracy"]
            event = {"type": "snapshot", "step": info["step"], "metrics": metrics, "elapsed": self.elapsed()}
            if self.probe:
                event["probe"] = self._probe(Path(info["path"]))
            events.append(self.log, event)
            self._write_status()

    def _probe(self, path: Path) -> dict | str:
        """The probe's trace answer by the snapshot file, or the sentence saying why there is none."""
        try:
            model = load_model(path)
            tok = model.encode(self.probe)
            # The gates only (k=0, no predictions): the panel draws the probe's heatmaps and unit lines.
            probe = TraceResult(model, tok, model.run(tok.ids), preds=None, classes=None, vectors=None,
                                cached_prefix=0)
            return trace_body(path.stem, model, probe, layers=None, encoding="compact", k=0)
        except ModelError as e:
            return str(e)

    def flush(self) -> None:
        """Send the steps since the last progress event."""
        self.last_flush = time.monotonic()
        if not self.pending["steps"]:
            return
        tokens, seconds = self.window
        rate = round(tokens / seconds, 1) if seconds > 0 else None
        self.status["tok_s"] = rate
        events.append(self.log, {"type": "progress", **self.pending, "tok_s": rate, "elapsed": self.elapsed()})
        self.pending = {"steps": [], "loss": []}
        self.window = [0, 0.0]
        self._write_status()

    def finish(self, state: str, **fields) -> None:
        """The run's last event: done, stopped or failed (with `detail`, a sentence)."""
        self.flush()
        fields = {k: v for k, v in fields.items() if v is not None}
        if "metrics" in fields:
            fields["metrics"] = {k: v for k, v in fields["metrics"].items()
                                 if not (isinstance(v, float) and not math.isfinite(v))}
        step = fields.pop("step", self.status["step"])
        events.append(self.log, {"type": state, "step": step, "elapsed": self.elapsed(), **fields})
        self.status.update(state=state, step=step, ended=time.time(),
                           **{k: v for k, v in fields.items() if k in ("detail", "metrics")})
        if isinstance(self.status.get("metrics", {}).get("accuracy"), (int, float)):
            self.status["accuracy"] = self.status["metrics"]["accuracy"]
        self._write_status()

    def _write_status(self) -> None:
        # cpu: this process's CPU seconds, a cost that hardly depends on what else the machine runs
        events.write_json(self.status_path, {**self.status, "elapsed": self.elapsed(),
                                             "cpu": round(time.process_time(), 2)})
