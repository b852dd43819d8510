"""The held-out text of a model trained by gatescope's trainer, read back from its own provenance.

A corpus model records its corpus and split in `meta["provenance"]["data"]`: the python-stdlib
corpus names its held-out modules (and the Python whose library they were read from), a text file
its validation fraction (the last part of the file). Task models have no text to index.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ModelError
from ..model import Model
from ..train import pycorpus
from ..train.data import read_corpus, split

ROOT = Path(__file__).resolve().parents[2]


def held_out_text(model: Model) -> tuple[str, str] | None:
    """(name, text) of the model's held-out text, or None for a model without a text corpus."""
    data = (model.meta.get("provenance") or {}).get("data") or {}
    corpus = data.get("corpus")
    if corpus == pycorpus.CORPUS_NAME:
        want, have = data.get("python"), pycorpus.python_version()
        if want and want != have:
            raise ModelError(f"{model.name} was validated on the standard library of Python {want}; this is Python "
                             f"{have}, whose modules differ: index its held-out text under Python {want}")
        mods = tuple(data.get("held_out_modules") or pycorpus.HELD_OUT_MODULES)
        return f"python-stdlib held-out modules ({', '.join(mods)}) of Python {have}", pycorpus.corpus_text(mods)
    if corpus and "val_fraction" in data:
        path = Path(corpus)
        path = path if path.is_absolute() else ROOT / path
        _, val = split(read_corpus(path), data["val_fraction"])
        return f"last {data['val_fraction']:.0%} of {path.name}", val
    return None
