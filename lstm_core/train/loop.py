"""The training loop: truncated BPTT with Adam, clipping, a schedule, checkpoints, resume and Ctrl-C.

A run is a pure function of its TrainConfig: the batch, the dropout masks and the learning rate of
step k depend only on (seed, k), so a run resumed from a checkpoint ends with the same weights as
one that never stopped.
"""
from __future__ import annotations

import math
import signal
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..tasks import get_task
from ..tokenizers import Tokenizer
from .checkpoint import load_checkpoint, save_checkpoint
from .config import TrainConfig
from .history import save_snapshot
from .model_grad import NetSpec, forward_backward, init_params, zero_state
from .optim import Adam, clip_grad_norm, learning_rate
from .sources import CorpusSource, TaskSource


class TrainingError(ModelError):
    """Training had to stop (for example the loss stopped being finite)."""


@dataclass
class Outcome:
    params: dict[str, NDArray]
    spec: NetSpec
    tokenizer: Tokenizer
    config: TrainConfig
    step: int
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0  # wall time of this process's training steps and evaluations
    interrupted: bool = False
    source: dict = field(default_factory=dict)


def make_source(cfg: TrainConfig, vocab: tuple[str, ...] | None = None) -> CorpusSource | TaskSource:
    if cfg.task is not None:
        return TaskSource(get_task(cfg.task), cfg.batch, cfg.seed)
    return CorpusSource(cfg.corpus, cfg.batch, cfg.seq_len, cfg.seed, cfg.val_fraction, vocab, cfg.max_vocab or None)


class _CtrlC:
    """Turns the first SIGINT into a flag checked between steps, so no update is ever half applied."""

    def __init__(self) -> None:
        self.hit = False
        self._old = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.hit:  # a second Ctrl-C means stop now
            raise KeyboardInterrupt
        self.hit = True

    def __exit__(self, *exc) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def _setup(cfg: TrainConfig | None, resume, steps: int | None, threads: int | None):
    """(config, source, spec, params, optimizer, first step, carried state) for a new or resumed run."""
    if resume is not None:
        params, spec, tokenizer, opt, start, state, saved = load_checkpoint(resume)
        cfg = replace(saved, steps=steps or saved.steps, threads=saved.threads if threads is None else threads)
        return cfg, make_source(cfg, tokenizer.vocab), spec, params, opt, start, state
    if cfg is None:
        raise ValueError("train needs a configuration or a checkpoint to resume")
    source = make_source(cfg)
    spec = NetSpec(len(source.tokenizer), cfg.hidden_size, cfg.num_layers, cfg.input_kind, cfg.embed_size,
                   cfg.dropout)
    dtype = np.dtype(cfg.dtype)
    params = init_params(spec, cfg.seed, dtype, cfg.forget_bias)
    return cfg, source, spec, params, Adam(lr=cfg.lr), 0, zero_state(spec, cfg.batch, dtype)


def train(cfg: TrainConfig | None, checkpoint: str | Path, resume: str | Path | None = None,
          steps: int | None = None, threads: int | None = None, stop_at: int | None = None,
          progress: bool = True, log=print) -> Outcome:
    """Train `cfg` from scratch, or continue the run saved in the checkpoint `resume` with its own config

    (where `steps` may extend the run and `threads` change the BLAS thread count). `stop_at` ends this
    session after that step with a checkpoint, as Ctrl-C would; the run continues with `resume`.
    """
    from threadpoolctl import threadpool_limits
    from tqdm import tqdm

    cfg, source, spec, params, opt, start, state = _setup(cfg, resume, steps, threads)
    tokenizer = source.tokenizer
    dtype = np.dtype(cfg.dtype)
    out = Outcome(params, spec, tokenizer, cfg, start, source=source.describe)
    last_good, last_loss = None, None
    t0 = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=start, disable=not progress, unit="step", dynamic_ncols=True)
    with threadpool_limits(limits=cfg.blas_threads, user_api="blas"), _CtrlC() as ctrl_c:
        for step in range(start, cfg.steps):
            t_step = time.perf_counter()
            if source.starts_fresh(step):
                state = zero_state(spec, cfg.batch, dtype)
            x, y, w = source.batch_at(step)
            rng = np.random.default_rng([cfg.seed, step, 1]) if spec.dropout > 0 else None
            with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported just below
                r = forward_backward(params, spec, x, y, state, w, rng)
                norm = clip_grad_norm(r.grads, cfg.clip)
            where = f"the last good checkpoint is {last_good}" if last_good else "no checkpoint was written"
            if not (math.isfinite(r.loss) and math.isfinite(norm)):
                bar.close()
                raise TrainingError(f"the loss became {r.loss} (gradient norm {norm}) at step {step + 1}; "
                                    f"training stopped and {where}. Lower the learning rate (now {cfg.lr}) "
                                    "or tighten --clip.")
            opt.step(params, r.grads, learning_rate(step, cfg.lr, cfg.steps, cfg.schedule, cfg.warmup))
            state, last_loss = r.state, r.loss
            out.step = step + 1
            tokens = x.size if w is None else int(np.count_nonzero(w))
            bar.set_postfix(loss=f"{r.loss:.3f}", bpc=f"{r.loss / math.log(2):.3f}",
                            tok_s=f"{tokens / (time.perf_counter() - t_step):,.0f}", refresh=False)
            bar.update(1)
            evaluated = cfg.eval_every and out.step % cfg.eval_every == 0 and out.step < cfg.steps
            if evaluated:
                out.metrics = source.evaluate(params, spec)
                bar.write(f"step {out.step}: " + ", ".join(f"{k} {v}" for k, v in out.metrics.items()))
            if cfg.history_every and out.step % cfg.history_every == 0 and out.step < cfg.steps:
                _snapshot(cfg, params, spec, tokenizer, out.step, out.metrics if evaluated
                          else source.evaluate(params, spec), r.loss)
            if evaluated and cfg.target is not None and out.metrics.get("accuracy", -1) >= cfg.target:
                break
            stop = ctrl_c.hit or out.step == stop_at
            if (cfg.checkpoint_every and out.step % cfg.checkpoint_every == 0) or stop:
                if not all(np.isfinite(p).all() for p in params.values()):
                    bar.close()
                    raise TrainingError(f"the weights stopped being finite after step {out.step}; training "
                                        f"stopped and {where}. Lower the learning rate (now {cfg.lr}).")
                save_checkpoint(checkpoint, params, spec, tokenizer, opt, out.step, state, cfg)
                last_good = f"{checkpoint} (step {out.step})"
            if stop:
                out.interrupted = True
                break
        bar.close()
        out.seconds = time.perf_counter() - t0
        if not out.interrupted:
            log("evaluating...")  # inside the thread limit: oversubscribed BLAS threads spin on a busy machine
            out.metrics = source.evaluate(params, spec)
            if last_loss is not None:
                out.metrics["train_loss_last_step"] = round(last_loss, 4)
            if cfg.history_every and out.step > start:  # the last snapshot is the final weights
                _snapshot(cfg, params, spec, tokenizer, out.step, out.metrics, last_loss)
    return out


def _snapshot(cfg: TrainConfig, params: dict[str, NDArray], spec: NetSpec, tokenizer: Tokenizer, step: int,
              metrics: dict, loss: float | None) -> None:
    extra = {} if loss is None else {"train_loss": round(loss, 4)}
    metrics = {k: v for k, v in metrics.items() if k != "train_loss_last_step"}
    save_snapshot(cfg.history_dir, Path(cfg.history_dir).name, params, spec, tokenizer, step,
                  {**metrics, **extra}, cfg)

