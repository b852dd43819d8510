"""What every reader hands back: the LSTM in torch names plus the pieces around it.

Readers convert their framework's layout to torch's at the border (each documents its gate order);
`Parts` is the meeting point where the vocabulary is attached and the `Model` is built.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError
from ..lstm import LSTM

# No reader accepts a file above this without being told otherwise: LSTMs worth tracing live
# comfortably below it, and it bounds what a hostile upload can make us allocate.
MAX_FILE_BYTES = 1 << 30
MAX_RATIO = 100  # a deflated member expanding more than this is treated as a zip bomb
_CHUNK = 1 << 20  # bytes decompressed at a time: what a zip member that lies about its size can cost


@dataclass
class Parts:
    """A model as a reader found it, before a vocabulary is attached."""

    fmt: str  # "torch", "keras" or "onnx"
    lstm: LSTM
    embedding: NDArray | None = None  # (V, input_size)
    decoder_weight: NDArray | None = None  # (K, D * H_out): the linear head, whatever it is
    decoder_bias: NDArray | None = None  # (K,)
    source: dict = field(default_factory=dict)  # file name, format details, framework version
    ignored: list[str] = field(default_factory=list)  # tensors or layers the reader did not use
    notes: list[str] = field(default_factory=list)  # what the reader assumed or noticed, in sentences
    # What the file's structure says about the head (heads.py): {"kind", "why", "pool", "activation"}.
    head_hint: dict = field(default_factory=dict)
    reference: Any = None  # what verify.py needs to rerun the model in its framework


@dataclass(frozen=True)
class KerasOptions:
    """What a Keras weights-only file does not record, given by the user (None: inferred, and said so)."""

    activation: str | None = None  # the cell and hidden activation (Keras `activation`)
    recurrent_activation: str | None = None  # the gates' activation (Keras `recurrent_activation`)
    layers: tuple[str, ...] | None = None  # the layers to read, in order, by name

    def given(self) -> bool:
        return any(v is not None for v in (self.activation, self.recurrent_activation, self.layers))


def as_float(a, name: str) -> NDArray:
    """A finite float32/float64 NumPy array, or a ModelError naming the tensor."""
    a = np.asarray(a)
    if a.dtype == np.float16 or a.dtype.name == "bfloat16":
        a = a.astype(np.float32)
    if a.dtype not in (np.float32, np.float64):
        raise ModelError(f"tensor {name!r} has dtype {a.dtype}; gatescope reads float16, float32 or float64 weights")
    if not np.isfinite(a).all():
        raise ModelError(f"tensor {name!r} contains NaN or infinite values")
    return a


def unify_dtype(params: dict[str, NDArray]) -> dict[str, NDArray]:
    """One dtype for all LSTM parameters (the core requires it): float64 if any is, else float32."""
    dt = np.float64 if any(a.dtype == np.float64 for a in params.values()) else np.float32
    return {k: np.ascontiguousarray(v, dtype=dt) for k, v in params.items()}


def check_size(path, limit: int = MAX_FILE_BYTES) -> int:
    """File size in bytes, refusing anything above `limit` before it is read."""
    import os

    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise ModelError(f"cannot read {os.path.basename(str(path))}: {e.strerror}") from None
    if size > limit:
        raise ModelError(f"the file is {size / 2**20:.0f} MiB; the import limit is {limit / 2**20:.0f} MiB",
                         "core.file_too_big", size=f"{size / 2**20:.0f}", limit=f"{limit / 2**20:.0f}")
    if size == 0:
        raise ModelError("the file is empty", "core.file_empty")
    return size


def check_zip(z, label: str, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse an archive whose members would expand past `limit`, far beyond their compressed size, or beyond
    what their headers claim. Headers are only a first check: every member is then decompressed a chunk at a
    time with a running count (and its CRC checked), so a member that lies about its size is caught having
    cost one chunk of memory, and whatever reads the archive next (torch, h5py) meets only honest sizes."""
    total = 0
    for info in z.infolist():
        total += info.file_size
        bomb = info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1 << 20
        if info.file_size > limit or total > limit or bomb:
            raise ModelError(f"{label}: member {info.filename!r} would expand to {info.file_size} bytes "
                             f"from {info.compress_size}; refused as a possible zip bomb")
    for info in z.infolist():
        n = 0
        for chunk in _inflate(z, info, label):
            n += len(chunk)
            if n > info.file_size:
                raise ModelError(f"{label}: member {info.filename!r} expands beyond the {info.file_size} bytes its "
                                 "header claims; refused as a possible zip bomb")


def read_member(z, name: str, limit: int, label: str) -> io.BytesIO:
    """A member's bytes, decompressed a chunk at a time and cut off at `limit` whatever its header claims."""
    try:
        info = z.getinfo(name)
    except KeyError:
        raise ModelError(f"{label} has no {name}") from None
    out = io.BytesIO()
    for chunk in _inflate(z, info, label):
        out.write(chunk)
        if out.tell() > limit:
            raise ModelError(f"{label}: {name} is larger than {limit} bytes; refused")
    out.seek(0)
    return out


def _inflate(z, info, label: str):
    """A member's decompressed bytes in chunks of at most _CHUNK, ending with a CRC check."""
    try:
        with z.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    # ValueError: a damaged local header whose file name does not decode (UnicodeDecodeError), among others
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error) as e:
        raise ModelError(f"{label}: member {info.filename!r} is corrupt or truncated ({e})") from None
