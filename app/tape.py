"""A causal trace that grows in place: typing one more token writes only that token's timesteps.

Joining the cached prefix to the newly run rest with np.concatenate copied the whole trace on every
keystroke (most of the trace cache's 18.6 ms at 2,000 characters, issue 17). A Tape keeps every timed
array in a buffer with room to grow along time, like a Python list; each cached trace is a read-only
view of its first T steps. A new trace may write after step k only while no trace views anything after
k (`filled == k`); otherwise (an edit inside the text, typing after a backspace) it starts a new tape,
copying the k steps once.
"""
from __future__ import annotations

import threading
from dataclasses import fields

import numpy as np
from numpy.typing import NDArray

from lstm_core import Trace

_TIMED = ("i", "f", "g", "o", "c", "h", "pre_i", "pre_f", "pre_g", "pre_o")  # (L, D, T, H); output is (T, H)
_SPARE = 64  # timesteps of room beyond half again the length, so that short texts do not regrow each key


class Tape:
    """Buffers for a causal trace's timed arrays, the first `filled` timesteps written."""

    def __init__(self, head: Trace, capacity: int) -> None:
        T = head.num_steps
        self.bufs: dict[str, NDArray] = {}
        for name in (*_TIMED, "output"):
            a = getattr(head, name)
            if a is None:
                continue
            axis = a.ndim - 2  # time: -2 on every timed array
            buf = np.empty(a.shape[:axis] + (capacity,) + a.shape[axis + 1 :], dtype=a.dtype)
            buf[..., :T, :] = a
            self.bufs[name] = buf
        self.filled = T
        self.capacity = capacity
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Every buffer's whole size: what the tape holds in memory, however few steps are written."""
        return sum(b.nbytes for b in self.bufs.values())

    def view(self, T: int, h_n: NDArray, c_n: NDArray) -> Trace:
        """The trace of the first T steps (read-only views), ending in the state h_n, c_n."""
        kw = {f.name: None for f in fields(Trace) if f.name not in ("batched", "lengths")}
        for name, buf in self.bufs.items():
            v = buf[..., :T, :]
            v.flags.writeable = False  # the tail may be shared with the next trace's
            kw[name] = v
        kw.update(h_n=h_n, c_n=c_n)
        return Trace(**kw)

    def append_at(self, k: int, rest: Trace) -> bool:
        """Write `rest` after step k if no trace views a step past k and it fits; False (nothing written) if not."""
        n = rest.num_steps
        with self._lock:
            if self.filled != k or k + n > self.capacity or set(self.bufs) != _present(rest):
                return False
            for name, buf in self.bufs.items():
                buf[..., k : k + n, :] = getattr(rest, name)
            self.filled = k + n
            return True


def _present(tr: Trace) -> set[str]:
    return {name for name in (*_TIMED, "output") if getattr(tr, name) is not None}


def extend(tape: Tape | None, head: Trace, k: int, rest: Trace) -> tuple[Trace, Tape]:
    """The causal trace `head` (k steps, read off `tape` if it has one) followed by `rest`, and the tape it views."""
    T = k + rest.num_steps
    if tape is None or not tape.append_at(k, rest):
        tape = Tape(head, T + T // 2 + _SPARE)
        tape.append_at(k, rest)  # a fresh tape holds exactly k steps and has room: this always writes
    return tape.view(T, rest.h_n, rest.c_n), tape
