"""The two schedules that run every (layer, direction) cell of an LSTM through the time loop (engine.py).

- `by_layer`: layer after layer, both directions of a layer in one loop; any LSTM.
- `wavefront`: every layer of a unidirectional stack in one loop; fewer, larger products at small batch.
Both take time-major input xt (T, B, D), lengths (B,) and initial states (B, L*D, X), record into step
buffers and return (views of those buffers by name in the trace's layout (B, L, D, T, X), c_n, h_n),
the final states being (B, L*D, X).
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import NDArray

from . import halves, pipeline
from .engine import CellOptions, CellWeights, GroupRun, run_groups

PROJECT_STEPS = 16  # timesteps per input-projection product (see _project)


def _buffers(shape: tuple[int, ...], steps: int, H: int, Ho: int, dt, record_pre: bool) -> GroupRun:
    """Step buffers for shape (*lead, B, G): (*lead, steps, B, G, X); c and h get one more, the initial state."""
    *lead, B, G = shape
    return GroupRun(
        gates=np.empty((*lead, steps, B, G, 4 * H), dt),
        pre=np.empty((*lead, steps, B, G, 4 * H), dt) if record_pre else None,
        c=np.empty((*lead, steps + 1, B, G, H), dt),
        h=np.empty((*lead, steps + 1, B, G, Ho), dt),
    )


def _split(gates: NDArray, pre: NDArray | None, H: int) -> dict[str, NDArray]:
    """Views of i, f, g, o (and pre-activations) in a (..., 4H) buffer of internal order i|f|o|g."""
    out = {}
    for name, j in (("i", 0), ("f", 1), ("o", 2), ("g", 3)):
        out[name] = gates[..., j * H : (j + 1) * H]
        if pre is not None:
            out[f"pre_{name}"] = pre[..., j * H : (j + 1) * H]
    return out


def by_layer(cells: tuple[tuple[CellWeights, ...], ...], opts: CellOptions, xt: NDArray, lens: NDArray,
             ragged: bool, h0b: NDArray, c0b: NDArray, record_pre: bool,
             reverse: bool = False, offset: int = 0) -> tuple[dict[str, NDArray], NDArray, NDArray]:
    """Layer after layer, both directions of a layer in one loop; the trace views the step buffers.

    A backward direction (d = 1, or d = 0 of a reverse-only LSTM) runs forward on its input reversed
    within each sequence's length, and its steps are put back in input order afterwards. The batch may be
    cut in two halves, each run through every layer by a thread of its own (halves.py), or the layers in two
    stages over chunks of steps, one thread each (pipeline.py).
    """
    T, B, _ = xt.shape
    L, Dn = len(cells), len(cells[0])
    H4, Ho = cells[0][0].W_hh.shape[1], cells[0][0].W_hh.shape[0]
    H, dt = H4 // 4, xt.dtype
    buf = _buffers((L, B, Dn), T, H, Ho, dt, record_pre)  # gates (L, T, B, D, 4H), c (L, T+1, B, D, H)...
    steps = np.arange(T)[:, None]
    rev = np.where(steps < lens, lens - 1 - steps, steps)[:, :, None]  # (T, B, 1) reversal within lengths
    mask = np.broadcast_to((steps < lens)[:, :, None], (T, B, Dn)) if ragged else None
    c_n, h_n = np.empty((B, L * Dn, H), dt), np.empty((B, L * Dn, Ho), dt)

    def rows(r: slice) -> None:  # every layer of the batch rows r (halves.run may run two at once)
        part = GroupRun(*(None if a is None else a[:, :, r] for a in (buf.gates, buf.pre, buf.c, buf.h)))
        _layers(cells, opts, xt[:, r], rev[:, r], None if mask is None else mask[:, r], h0b[r], c0b[r], part,
                c_n[r], h_n[r], reverse, offset, cut=r != slice(None))

    m = pipeline.split(L, Dn, reverse, B, T * Ho * H4)
    if m is None or not _pipeline(m, cells, opts, xt, mask, h0b, c0b, buf, c_n, h_n, offset):
        halves.run(rows, B)

    def pub(a):  # (L, T, B, D, X) -> (B, L, D, T, X)
        return a.transpose(2, 0, 3, 1, 4)

    views = {k: pub(v) for k, v in _split(buf.gates, buf.pre, H).items()}
    views["c"], views["h"] = pub(buf.c[:, 1:]), pub(buf.h[:, 1:])
    return views, c_n, h_n


def _layers(cells, opts: CellOptions, xt, rev, mask, h0b, c0b, buf: GroupRun, c_n, h_n, reverse: bool,
            offset: int, cut: bool) -> None:
    """`by_layer`'s loop over layers for the rows these arrays hold: xt (T, B, D), rev (T, B, 1), mask (T, B, D)
    or None, initial states (B, L*D, X), buf the step buffers (L, T, B, D, X), c_n and h_n (B, L*D, X) to fill;
    `cut`: these are half a batch's rows (halves.py), projected a step at a time (see _project)."""
    T, Dn = xt.shape[0], len(cells[0])
    inp = xt
    for k, P in enumerate(cells):
        run = GroupRun(buf.gates[k], None if buf.pre is None else buf.pre[k], buf.c[k], buf.h[k])
        add = _add_buffer(run)
        for d, p in enumerate(P):
            backward = d or reverse
            src = np.take_along_axis(inp, rev, axis=0) if backward else inp
            if cut:  # straight into the rows' strided buffer: no block-sized temporary per half (trace memory)
                np.matmul(src, p.W_ih, out=add[:, :, d])  # (T, B, 4H): a product per step, the same bits at any offset
                add[:, :, d] += p.b
            else:
                _project(src, p, add[:, :, d], 0 if backward else offset)
        sl = slice(k * Dn, (k + 1) * Dn)
        _loop(P, opts, run, h0b[:, sl], c0b[:, sl], mask, 0, T)
        c_n[:, sl], h_n[:, sl] = run.c[T], run.h[T]
        if Dn == 2 or reverse:  # the backward direction ran on reversed inputs: put its steps back in order
            d = Dn - 1
            for a in (run.gates, run.pre, run.c[1:], run.h[1:]):
                if a is not None:
                    a[:, :, d] = np.take_along_axis(a[:, :, d], rev, axis=0)
        inp = run.h[1:].reshape(T, run.h.shape[1], -1)  # (T, B, D*H_out), a view


def _loop(P, opts: CellOptions, run: GroupRun, h0, c0, mask, lo: int, hi: int) -> None:
    """The time loop of one layer's directions P over steps lo:hi of its step buffers `run` (T, B, D, X): from the
    initial states h0, c0 (B, D, X) when lo is 0, else from the state that step lo - 1 left."""
    W = P[0].W_hh if len(P) == 1 else np.stack([p.W_hh for p in P])
    part = GroupRun(run.gates[lo:hi], None if run.pre is None else run.pre[lo:hi], run.c[lo : hi + 1],
                    run.h[lo : hi + 1])
    if lo:
        h0, c0 = run.h[lo], run.c[lo]
    run_groups(W, _add_buffer(part), h0, c0, part, mask=None if mask is None else mask[lo:hi],
               W_hr=_stack([p.W_hr for p in P]), peep=_stack([p.peep for p in P], axis=1), opts=opts)


def _pipeline(m: int, cells, opts: CellOptions, xt, mask, h0b, c0b, buf: GroupRun, c_n, h_n, offset: int) -> bool:
    """`by_layer` for a left-to-right stack as two stages over chunks of steps (pipeline.py): layers below m here,
    the others in the pool's thread a chunk behind. Each chunk is projected at its absolute position, so every
    value has the bits of the whole run (see _project). False, having run nothing, while another cut runs."""
    T, B, _ = xt.shape
    runs = [GroupRun(buf.gates[k], None if buf.pre is None else buf.pre[k], buf.c[k], buf.h[k])
            for k in range(len(cells))]
    inputs = [xt] + [r.h[1:].reshape(T, B, -1) for r in runs[:-1]]  # (T, B, D_in) per layer, views

    def stage(layers: range):
        def span(lo: int, hi: int) -> None:
            for k in layers:
                _project(inputs[k][lo:hi], cells[k][0], _add_buffer(runs[k])[lo:hi, :, 0], offset + lo)
                _loop(cells[k], opts, runs[k], h0b[:, k : k + 1], c0b[:, k : k + 1], mask, lo, hi)
        return span

    if not pipeline.run(stage(range(m)), stage(range(m, len(cells))), pipeline.bounds(T, offset)):
        return False
    c_n[:], h_n[:] = buf.c[:, T, :, 0].swapaxes(0, 1), buf.h[:, T, :, 0].swapaxes(0, 1)  # (B, L, X)
    return True


def wavefront(cells: list[CellWeights], W: list[NDArray], opts: CellOptions, xt: NDArray, lens: NDArray,
              ragged: bool, h0b: NDArray, c0b: NDArray,
              record_pre: bool, offset: int = 0) -> tuple[dict[str, NDArray], NDArray, NDArray]:
    """All layers of a unidirectional stack in one loop: layer l handles t = s - l at step s.

    W are the row blocks of `Prepared.wavefront`.
    """
    T, B, _ = xt.shape
    L, H4, Ho = len(cells), cells[0].W_hh.shape[1], cells[0].W_hh.shape[0]
    S, dt = T + L - 1, xt.dtype
    run = _buffers((B, L), S, H4 // 4, Ho, dt, record_pre)
    add = _add_buffer(run)  # (S, B, L, 4H)
    add[:] = np.stack([p.b for p in cells])  # layers above 0 get their input through the recurrence
    _project(xt, cells[0], add[:T, :, 0], offset)
    t = np.arange(S)[:, None, None] - np.arange(L)[None, None, :]  # (S, 1, L): time each layer handles
    limit = lens[None, :, None] if ragged else T
    run_groups(W, add, h0b, c0b, run, mask=(t >= 0) & (t < limit),
               W_hr=_stack([p.W_hr for p in cells]), peep=_stack([p.peep for p in cells], axis=1), opts=opts)
    views = {k: _skew(v, T) for k, v in _split(run.gates, run.pre, H4 // 4).items()}
    views["c"], views["h"] = _skew(run.c[1:], T), _skew(run.h[1:], T)
    return views, run.c[S].copy(), run.h[S].copy()


def _add_buffer(run: GroupRun) -> NDArray:
    """Where the input projections go: the step buffer that run_groups adds the recurrent product into
    (the pre-activations when recorded, else the gates), so that a trace holds no T-long array beyond its own."""
    return run.gates if run.pre is None else run.pre


def _project(x: NDArray, p: CellWeights, out: NDArray, offset: int = 0) -> None:
    """out (T, B, 4H) = x (T, B, D) W_ih^T + b for all timesteps, in blocks of PROJECT_STEPS timesteps.

    Not one product over all T rows (nor T small ones, which is slow): BLAS rounds a row differently
    depending on the product's row count, so a trace continued at position `offset` from a cached prefix
    would differ in the last bits from a whole run. Blocks aligned to absolute positions, zero padded, each
    one product of the same shape, give every position the same bits either way (as lstm_core/predict.py).
    """
    T, B, D = x.shape
    S = PROJECT_STEPS
    for start in range(offset - offset % S, offset + T, S):
        lo, hi = max(start, offset), min(start + S, offset + T)
        dst = out[lo - offset : hi - offset]  # (n, B, 4H)
        if hi - lo == S and dst.flags.c_contiguous:  # a whole block: no copies (trace memory)
            np.matmul(x[lo - offset : hi - offset].reshape(S * B, D), p.W_ih, out=dst.reshape(S * B, -1))
            dst += p.b
            continue
        block = np.zeros((S, B, D), x.dtype)
        block[lo - start : hi - start] = x[lo - offset : hi - offset]
        proj = block.reshape(S * B, D) @ p.W_ih  # (S*B, 4H)
        np.add(proj.reshape(S, B, -1)[lo - start : hi - start], p.b, out=out[lo - offset : hi - offset])


def _skew(a: NDArray, T: int) -> NDArray:
    """(S, B, L, X) wavefront buffer to the (B, L, 1, T, X) view with [b, l, 0, t] = a[t + l, b, l]."""
    sS, sB, sL, sX = a.strides
    _, B, L, X = a.shape
    return as_strided(a, shape=(B, L, T, X), strides=(sB, sS + sL, sS, sX))[:, :, None]


def _stack(parts: list, axis: int = 0) -> NDArray | None:
    return None if parts[0] is None else np.stack(parts, axis=axis)
