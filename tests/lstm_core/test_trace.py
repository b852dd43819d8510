"""The Trace record on hand-made arrays: picking quantities, slicing and joining along time."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import Trace, concat_time

TIMED = ("i", "f", "g", "o", "c", "h", "pre_i", "pre_f", "pre_g", "pre_o")


def made(T: int, start: float = 0.0, D: int = 1, batched: bool = False, pre: bool = True) -> Trace:
    """A trace whose every value says where it is: value = start + t, so slices can be read back."""
    lead = (2,) if batched else ()
    t = start + np.arange(T, dtype=np.float64)
    arrays = {k: np.broadcast_to(t[:, None], (*lead, 3, D, T, 4)).copy() for k in TIMED}
    if not pre:
        for k in TIMED[6:]:
            arrays[k] = None
    output = np.broadcast_to(t[:, None], (*lead, T, 4 * D)).copy()
    h_n = np.full((*lead, 3 * D, 4), start + 100)
    return Trace(**arrays, output=output, h_n=h_n, c_n=h_n + 1, batched=batched)


def test_gate_by_name_and_num_steps():
    tr = made(5)
    assert tr.num_steps == 5
    for q in Trace.GATES:
        assert tr.gate(q) is getattr(tr, q)
    with pytest.raises(KeyError, match="unknown quantity 'pre_i'"):
        tr.gate("pre_i")


@pytest.mark.parametrize("batched", [False, True])
def test_slice_time_cuts_every_timed_array_and_keeps_final_states(batched):
    tr = made(8, batched=batched)
    part = tr.slice_time(2, 5)
    for k in TIMED:
        a = getattr(part, k)
        assert a.shape[-2] == 3, k
        assert np.array_equal(a[..., :, 0], np.broadcast_to([2.0, 3.0, 4.0], a.shape[:-1])), k
    assert part.output.shape[-2] == 3 and part.output[..., 0, 0].flat[0] == 2.0
    assert part.h_n is tr.h_n and part.c_n is tr.c_n  # final states are kept as they are
    assert part.batched == batched and part.num_steps == 3
    assert tr.slice_time(6).num_steps == 2


def test_concat_time_joins_in_order_and_takes_the_second_final_state():
    a, b = made(3, start=0.0), made(4, start=3.0)
    ab = concat_time(a, b)
    assert ab.num_steps == 7
    for k in TIMED:
        np.testing.assert_array_equal(getattr(ab, k)[0, 0, :, 0], np.arange(7.0), err_msg=k)
    np.testing.assert_array_equal(ab.output[:, 0], np.arange(7.0))
    assert ab.h_n is b.h_n and ab.c_n is b.c_n
    assert concat_time(ab.slice_time(0, 3), ab.slice_time(3)).num_steps == 7


def test_concat_time_without_pre_activations_on_one_side():
    ab = concat_time(made(2, pre=False), made(2, start=2.0))
    assert ab.pre_i is None and ab.i.shape[-2] == 4


def test_concat_time_refuses_batched_and_bidirectional():
    with pytest.raises(ValueError, match="unbatched"):
        concat_time(made(2, batched=True), made(2, batched=True))
    with pytest.raises(ValueError, match="unidirectional"):
        concat_time(made(2, D=2), made(2, D=2))
