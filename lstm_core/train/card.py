"""Model cards: the markdown that travels inside a trained model file and next to it as `<id>.md`."""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict

from .loop import Outcome


def _fmt_seconds(s: float) -> str:
    m, s = divmod(int(round(s)), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def build_meta(out: Outcome, name: str, description: str, command: str) -> dict:
    """The `meta` dict of the saved Model: name, description, provenance, metrics and the card text."""
    cfg, spec = out.config, out.spec
    n_params = sum(int(v.size) for v in out.params.values())
    provenance = {
        "trainer": "lstm_core.train (NumPy truncated BPTT, Adam)",
        "command": command,
        "config": asdict(cfg),
        "data": out.source,
        "steps": out.step,
        "training_seconds": round(out.seconds, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {cfg.blas_threads} BLAS threads",
        "trained_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    meta = {"name": name, "description": description, "provenance": provenance, "metrics": dict(out.metrics)}
    meta["card"] = card_text(meta, n_params, spec)
    return meta


def card_text(meta: dict, n_params: int, spec) -> str:
    p, m = meta["provenance"], meta["metrics"]
    cfg, data = p["config"], p["data"]
    if "task" in data:
        data_lines = [f"Synthetic task `{data['task']}`: {data['task_description']}.",
                      "Training examples are generated fresh at every step from the seed; the accuracy below "
                      f"is measured on {data['held_out_examples']} examples from a separate held-out stream "
                      "(`lstm_core.tasks.HELD_OUT_SEED`), scored by `lstm_core.tasks.accuracy`."]
    elif "train_modules" in data:
        data_lines = [f"Python source of the standard library of Python {data['python']}.",
                      f"Training modules ({len(data['train_modules'])}): {', '.join(data['train_modules'])}.",
                      f"Held-out validation modules ({len(data['held_out_modules'])}), never trained on: "
                      f"{', '.join(data['held_out_modules'])}.",
                      f"{data['train_chars']:,} training characters, {data['val_chars']:,} validation characters."]
    else:
        data_lines = [f"Corpus `{data['corpus']}`; the last {data['val_fraction']:.0%} of the file is validation "
                      "and is never trained on.",
                      f"{data['train_chars']:,} training characters, {data['val_chars']:,} validation characters."]
        if "credit" in data:
            data_lines.insert(1, f"Source: {data['credit']}")
    if "train_coverage" in data:
        data_lines.append(f"Vocabulary: the {data['vocab_size'] - 1:,} most frequent characters of the training "
                          f"text and `<unk>` for the rest; they cover {data['train_coverage']:.2%} of the training "
                          f"and {data['val_coverage']:.2%} of the validation characters.")
    arch = (f"{spec.num_layers} x LSTM({spec.hidden_size}) with torch `nn.LSTM` parameter names, "
            f"{spec.input_kind} input over a {spec.vocab_size}-symbol character vocabulary (with `<unk>`), "
            f"linear decoder and softmax; {n_params:,} parameters.")
    metric_lines = [f"- {k}: " + (", ".join(f"{a}: {b}" for a, b in v.items()) if isinstance(v, dict) else str(v))
                    for k, v in m.items()]
    if "val_loss" in m:
        metric_lines.append("- (validation text scored in chunks of 1,000 characters, each from a zero state; "
                            "`val_loss` is the mean cross-entropy in nats per predicted character)")
    if "bigram_val_loss" in m:
        below = (1 - m["val_loss"] / m["bigram_val_loss"], 1 - m["val_loss"] / m["trigram_val_loss"])
        metric_lines.append("- (baselines fitted on the same training text, same vocabulary and `<unk>`, scored on "
                            "the same positions, `lstm_core.train.baselines`: add-0.1 character bigram and "
                            f"interpolated character trigram; val_loss is {below[0]:.1%} below the bigram and "
                            f"{below[1]:.1%} below the trigram)")
    if m.get("stored_as") == "float16":
        metric_lines.append("- (weights stored as float16, which `load_model` reads back as float32; every metric "
                            "above is measured on the stored weights; `float32_val_loss` is the trained float32 "
                            "weights' before storing)")
    bptt = f", truncated BPTT over {cfg['seq_len']} steps" if "task" not in data else ""
    early = (f" (stopped early: held-out accuracy reached the target {cfg['target']})"
             if p["steps"] < cfg["steps"] else "")
    train_lines = [f"batch {cfg['batch']}{bptt}",
                   f"Adam lr {cfg['lr']} ({cfg['schedule']} schedule over {cfg['steps']} steps, "
                   f"warmup {cfg['warmup']}), gradient-norm clip {cfg['clip']}, forget-gate bias "
                   f"+{cfg['forget_bias']} at init, dropout {cfg['dropout']}, seed {cfg['seed']}, {cfg['dtype']}",
                   f"{p['steps']} steps done{early}",
                   f"training time {_fmt_seconds(p['training_seconds'])} on {p['machine']} "
                   "(shared with other jobs), " + p["trained_at"]]
    return "\n".join([
        f"# {meta['name']}", "", meta["description"], "",
        "## Data", *data_lines, "",
        "## Architecture", arch, "",
        "## Metrics", *metric_lines, "",
        "## Training", *[f"- {t}" for t in train_lines], "",
        *history_lines(cfg),
        "## Reproduce", "```", p["command"], "```", "",
        "## Configuration", "```json", json.dumps(cfg, indent=1), "```", "",
    ])


def history_lines(cfg: dict) -> list[str]:
    """The card's section on the saved training history, if the run kept one."""
    if not cfg.get("history_every"):
        return []
    return ["## Training history",
            f"The weights every {cfg['history_every']} steps and at the end are native model files in "
            f"`{cfg['history_dir']}/step-NNNNNN.safetensors`; `{cfg['history_dir']}/history.json` lists their steps "
            "with the held-out metrics and the training loss measured at each. The last one is this model.", ""]

