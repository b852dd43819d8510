"""Which head an imported model has: a next-token decoder, a per-token tagger or a sequence classifier.

A file says less than one would like. What decides, in order:
1. the user (`head=` / `--head`), checked against the shapes;
2. the file's structure: a Keras Dense after an LSTM with return_sequences=False reads one vector per
   text, so it is a classifier (readers put that in `Parts.head_hint`);
3. label names (`labels=` / `--labels`) name a tagger's or a classifier's classes, never a vocabulary;
4. a decoder with one row per vocabulary token is a next-token decoder;
5. anything else is read per position, as a tagger (a torch state dict cannot tell a tagger from a
   classifier: both are one Linear; `--head classifier` says so).
A classifier reads the final state unless told otherwise (`pool`, head.py). A single output is read
through a sigmoid (a binary classifier's or tagger's P(label)); Keras's Dense activation is used as written.
Every assumption is a sentence in the import notes, and so in the card.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ModelError
from ..head import KINDS, POOLS, Head
from ..tokenizers import Tokenizer


@dataclass(frozen=True)
class HeadChoice:
    kind: str
    labels: tuple[str, ...] | None  # None: "0".."K-1" (or the vocabulary, for next_token)
    pool: str
    activation: str


def normalise_kind(kind: str | None) -> str | None:
    """"next-token" (the CLI's spelling) and "next_token" are the same kind; anything else is refused."""
    if kind is None:
        return None
    k = kind.strip().lower().replace("-", "_")
    if k not in KINDS:
        raise ModelError(f"the head must be one of next-token, tagger or classifier, not {kind!r}")
    return k


def choose(rows: int | None, tok: Tokenizer | None, *, kind: str | None, labels: tuple[str, ...] | None,
           pool: str | None, hint: dict) -> tuple[HeadChoice | None, list[str]]:
    """The head for a decoder of `rows` outputs (None: the file has none), and the notes that explain it.

    `hint` is what the reader learned from the file: {"kind": "classifier", "why": "..."} and/or
    {"activation": "softmax" | "sigmoid"}.
    """
    kind = normalise_kind(kind)
    if pool is not None and pool not in POOLS:
        raise ModelError(f"the classifier's pooling must be 'final' or 'last', not {pool!r}")
    if rows is None:
        if kind or labels is not None or pool:
            raise ModelError("the file has no output layer after the LSTM, so there is no head to name: "
                             "leave out --head, --labels and --pool")
        return None, []
    V = len(tok) if tok is not None else None
    notes = []
    if kind == "next_token":
        if rows != V:
            raise ModelError(f"--head next-token needs one output row per vocabulary token, but the head has {rows} "
                             f"rows and the vocabulary {V if V is not None else 'is missing'}")
        if labels is not None:
            raise ModelError("a next-token decoder's labels are its vocabulary: leave out --labels, or choose "
                             "--head tagger or classifier")
    elif kind is not None:
        notes.append(f"Head: {kind}, as given.")
    elif hint.get("kind"):
        kind = hint["kind"]
        notes.append(f"Head: {kind}, because {hint['why']}.")
    elif labels is not None or rows != V:
        kind = "tagger"
        why = "label names were given" if labels is not None else (
            f"its {rows} outputs are not the {V}-token vocabulary" if V is not None else "there is no vocabulary")
        notes.append(f"Head: read as a per-token tagger (one label per position), because {why}; the file cannot "
                     "say whether it reads every position or only the final state. If the model classifies the "
                     "whole text, import it with --head classifier.")
    else:
        kind = "next_token"
    if labels is not None and len(labels) != rows:
        raise ModelError(f"the labels name {len(labels)} classes but the head has {rows} outputs; give one name "
                         "per output row, in row order", "core.labels_count", labels=len(labels), rows=rows)
    if kind == "classifier":
        if pool is None:
            pool = hint.get("pool") or "final"
            if not hint.get("pool"):
                notes.append("Classifier input: assumed the final hidden state of the last layer, both directions "
                             "concatenated (torch: cat([h_n[-2], h_n[-1]], dim=1)); a state dict does not say. If "
                             "the model reads output[:, -1] instead, import it with --pool last.")
    elif pool is not None:
        raise ModelError("--pool chooses what a classifier reads; this head is read per position "
                         "(pass --head classifier if it is a classifier)")
    activation = hint.get("activation")
    if activation is None:
        activation = "sigmoid" if rows == 1 else "softmax"
        if rows == 1:
            notes.append("The head has a single output, read through a sigmoid as the probability of its label.")
    if kind != "next_token" and labels is None:
        notes.append(f"No label names were given (--labels): the {rows} outputs are named 0..{rows - 1}.")
    choice = HeadChoice(kind, labels, pool or "final", activation)
    return choice, notes


def sentence(head: Head | None) -> str:
    """The card's line about the head."""
    if head is None:
        return "none (no output layer after the LSTM)"
    shown = ", ".join(repr(s) for s in head.labels[:12]) + (" ..." if head.size > 12 else "")
    return head.describe() + (f"; labels {shown}" if head.kind != "next_token" else "")
