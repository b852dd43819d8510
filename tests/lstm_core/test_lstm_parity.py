"""Parity with real torch `nn.LSTM`: outputs, final states and every recorded gate.

Two independent references: torch's own `nn.LSTM` forward (output, h_n, c_n), and a step-by-step
recomputation of every gate from the module's weights with torch ops in float64 (i, f, g, o, c, h and
the pre-activations), written here from the `nn.LSTM` documentation equations.
"""
from __future__ import annotations

import itertools
import random
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_core import LSTM, LSTMConfig, ModelError

TOL = {torch.float32: 1e-5, torch.float64: 1e-10}
NP = {torch.float32: np.float32, torch.float64: np.float64}
# torch warns that oneDNN lacks projections and falls back to its reference kernel: expected here
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")
QUANTITIES = ("i", "f", "g", "o", "c", "h", "pre_i", "pre_f", "pre_g", "pre_o")


@dataclass(frozen=True)
class Case:
    layers: int
    bidirectional: bool
    proj: int
    bias: bool
    dtype: torch.dtype
    batch: int | None = None  # None: unbatched (T, D) input
    ragged: bool = False
    state: bool = False  # pass random h0, c0
    D: int = 4
    H: int = 5
    T: int = 7
    seed: int = 0

    def __str__(self) -> str:
        dt = "f32" if self.dtype == torch.float32 else "f64"
        return (f"L{self.layers}{'-bi' if self.bidirectional else ''}{f'-p{self.proj}' if self.proj else ''}"
                f"{'' if self.bias else '-nobias'}-{dt}-B{self.batch}{'-ragged' if self.ragged else ''}"
                f"{'-h0' if self.state else ''}-s{self.seed}")


def torch_module(case: Case) -> torch.nn.LSTM:
    torch.manual_seed(case.seed)
    return torch.nn.LSTM(case.D, case.H, case.layers, bias=case.bias, bidirectional=case.bidirectional,
                         proj_size=case.proj, dtype=case.dtype)


@contextmanager
def one_torch_thread():
    """Thousands of tiny torch ops: OpenMP hand-offs cost 40x more than the math on a busy machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


@one_torch_thread()
def reference_gates(mod: torch.nn.LSTM, x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor) -> dict:
    """Every gate of one unbatched sequence x (T, D), step by step, float64, from the module's weights.

    h0 (L*D, H_out) and c0 (L*D, H) in torch's layout. Returns (L, D, T, X) arrays per quantity.
    """
    L, Dn, T = mod.num_layers, 2 if mod.bidirectional else 1, x.shape[0]
    w = {k: v.detach().double() for k, v in mod.named_parameters()}
    rec = {q: [[None] * Dn for _ in range(L)] for q in QUANTITIES}
    inp = x.double()  # (T, D_in)
    for k in range(L):
        outs = []
        for d in range(Dn):
            n = f"l{k}{'_reverse' if d else ''}"
            h, c = h0[k * Dn + d].double(), c0[k * Dn + d].double()
            steps = {q: [None] * T for q in QUANTITIES}
            for t in (reversed(range(T)) if d else range(T)):
                z = w[f"weight_ih_{n}"] @ inp[t] + w[f"weight_hh_{n}"] @ h  # (4H,)
                if mod.bias:
                    z = z + w[f"bias_ih_{n}"] + w[f"bias_hh_{n}"]
                zi, zf, zg, zo = z.chunk(4)
                i, f, g, o = torch.sigmoid(zi), torch.sigmoid(zf), torch.tanh(zg), torch.sigmoid(zo)
                c = f * c + i * g
                h = o * torch.tanh(c)
                if mod.proj_size:
                    h = w[f"weight_hr_{n}"] @ h  # (P,)
                for q, v in zip(QUANTITIES, (i, f, g, o, c, h, zi, zf, zg, zo), strict=True):
                    steps[q][t] = v
            for q in QUANTITIES:
                rec[q][k][d] = torch.stack(steps[q])  # (T, X)
            outs.append(rec["h"][k][d])
        inp = torch.cat(outs, dim=-1)  # (T, D*H_out)
    return {q: torch.stack([torch.stack(r) for r in rec[q]]).numpy() for q in QUANTITIES}


def inputs(case: Case):
    """x, h0, c0 and lengths as torch tensors in torch's layout (h0: (L*D, B, H_out))."""
    g = torch.Generator().manual_seed(case.seed + 1)
    Dn, Ho = 2 if case.bidirectional else 1, case.proj or case.H
    B = case.batch or 1
    x = torch.randn(B, case.T, case.D, generator=g, dtype=case.dtype)
    lengths = torch.full((B,), case.T)
    if case.ragged:
        lengths = torch.randint(1, case.T + 1, (B,), generator=g)
        lengths[0] = case.T  # pad_packed_sequence returns max(lengths) steps; keep it T
    h0 = torch.zeros(case.layers * Dn, B, Ho, dtype=case.dtype)
    c0 = torch.zeros(case.layers * Dn, B, case.H, dtype=case.dtype)
    if case.state:
        h0 = torch.randn(h0.shape, generator=g, dtype=case.dtype)
        c0 = torch.randn(c0.shape, generator=g, dtype=case.dtype)
    return x, h0, c0, lengths


def assert_close(ours: np.ndarray, ref, tol: float, what: str) -> float:
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else ref
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != torch {ref.shape}"
    err = float(np.abs(ours.astype(np.float64) - ref).max(initial=0.0))
    assert err <= tol, f"{what}: max abs error {err:.3g} > {tol:g}"
    return err


def check(case: Case) -> None:
    mod = torch_module(case)
    lstm = LSTM.from_torch_state_dict(mod.state_dict())
    assert lstm.dtype == NP[case.dtype]
    x, h0, c0, lengths = inputs(case)
    tol = TOL[case.dtype]
    with torch.no_grad():
        if case.batch is None:
            out, (h_n, c_n) = mod(x[0], (h0[:, 0], c0[:, 0]) if case.state else None)
            tr = lstm.trace(x[0].numpy(), *((h0[:, 0].numpy(), c0[:, 0].numpy()) if case.state else ()),
                            record_pre=True)
        else:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, (h_n, c_n) = mod(packed, (h0, c0) if case.state else None)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=case.T)
            h_n, c_n = h_n.transpose(0, 1), c_n.transpose(0, 1)  # ours are B-first: (B, L*D, X)
            state = (h0.transpose(0, 1).numpy(), c0.transpose(0, 1).numpy()) if case.state else (None, None)
            tr = lstm.trace(x.numpy(), *state, lengths=lengths.numpy() if case.ragged else None, record_pre=True)
    for name, ref in (("output", out), ("h_n", h_n), ("c_n", c_n)):
        assert_close(getattr(tr, name), ref, tol, f"{case} {name}")
    for b in range(case.batch or 1):
        n = int(lengths[b])
        ref = reference_gates(mod, x[b, :n], h0[:, b], c0[:, b])
        for q in QUANTITIES:
            ours = getattr(tr, q) if case.batch is None else getattr(tr, q)[b]  # (L, D, T, X)
            assert_close(ours[:, :, :n], ref[q], tol, f"{case} sequence {b} {q}")
            assert not ours[:, :, n:].any(), f"{case} sequence {b}: {q} is not zero on padded steps"
        if case.batch is not None:
            assert not tr.output[b, n:].any(), f"{case} sequence {b}: output is not zero on padded steps"


GRID = [Case(L, bi, p, bias, dt, state=(L + bi + bias) % 2 == 0)
        for L, bi, p, bias, dt in itertools.product((1, 2, 3), (False, True), (0, 3), (True, False),
                                                     (torch.float32, torch.float64))]


@pytest.mark.usefixtures("fast_path")
@pytest.mark.parametrize("case", GRID, ids=str)
def test_unbatched_matches_torch(case: Case) -> None:
    check(case)


def _random_cases(n: int, seed: int = 2024) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for k in range(n):
        H = rng.randint(1, 9)
        cases.append(Case(
            layers=rng.randint(1, 3), bidirectional=rng.random() < 0.5,
            proj=rng.choice([0, 0, rng.randint(1, H - 1)]) if H > 1 else 0, bias=rng.random() < 0.75,
            dtype=rng.choice([torch.float32, torch.float64]),
            # small and large batches take different schedules in the core (wavefront or per layer)
            batch=rng.choice([1, 2, 3, 5, 8, 16, 17, 24, 33]), ragged=rng.random() < 0.7, state=rng.random() < 0.5,
            D=rng.randint(1, 7), H=H, T=rng.randint(1, 12), seed=1000 + k,
        ))
    return cases


@pytest.mark.usefixtures("fast_path")
@pytest.mark.parametrize("case", _random_cases(40), ids=str)
def test_random_batched_configs_match_torch(case: Case) -> None:
    check(case)


@pytest.mark.usefixtures("fast_path")
@pytest.mark.parametrize("layers,bidirectional", [(1, False), (2, False), (3, False), (2, True)])
@pytest.mark.parametrize("batch", [3, 40])
def test_ragged_batches_match_torch(layers: int, bidirectional: bool, batch: int) -> None:
    check(Case(layers, bidirectional, 0, True, torch.float64, batch=batch, ragged=True, state=True, T=9, seed=7))


@pytest.mark.parametrize("batch", [2, 40])
def test_padding_never_leaks(batch: int) -> None:
    """Whatever sits in the padded steps, every recorded value and final state stays the same."""
    case = Case(2, True, 3, True, torch.float64, batch=batch, ragged=True, T=8, seed=3)
    lstm = LSTM.from_torch_state_dict(torch_module(case).state_dict())
    x, _, _, lengths = inputs(case)
    x = x.numpy()
    noisy = x.copy()
    for b, n in enumerate(lengths.tolist()):
        noisy[b, n:] = 1e3 * np.random.default_rng(b).standard_normal(noisy[b, n:].shape)
    a, b_ = lstm.trace(x, lengths=lengths.numpy()), lstm.trace(noisy, lengths=lengths.numpy())
    for name in (*QUANTITIES[:6], "output", "h_n", "c_n"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b_, name), err_msg=name)


def test_state_dict_round_trip_loads_back_into_torch() -> None:
    case = Case(2, True, 3, True, torch.float32, D=6, H=8)
    mod = torch_module(case)
    sd = LSTM.from_torch_state_dict(mod.state_dict()).to_torch_state_dict()
    assert set(sd) == set(mod.state_dict())
    fresh = torch.nn.LSTM(case.D, case.H, case.layers, bidirectional=True, proj_size=case.proj)
    fresh.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in sd.items()}, strict=True)
    x = torch.randn(5, 9, case.D)
    with torch.no_grad():
        (o1, (h1, c1)), (o2, (h2, c2)) = mod(x), fresh(x)
    for a, b in ((o1, o2), (h1, h2), (c1, c2)):
        assert torch.equal(a, b)
    # and the arrays are torch's values exactly, not a re-derivation
    for k, v in mod.state_dict().items():
        np.testing.assert_array_equal(sd[k], v.numpy(), err_msg=k)


def test_state_dict_with_module_prefix_and_float64() -> None:
    """A state dict saved from a wrapper (DataParallel's 'module.' prefix) loads the same."""
    mod = torch.nn.LSTM(3, 4, 2, dtype=torch.float64)
    lstm = LSTM.from_torch_state_dict({f"module.{k}": v for k, v in mod.state_dict().items()})
    c = lstm.config
    sizes = (c.input_size, c.hidden_size, c.num_layers, c.bidirectional, c.proj_size, c.bias)
    assert sizes == (3, 4, 2, False, 0, True)
    x = torch.randn(6, 3, dtype=torch.float64)
    with torch.no_grad():
        out, _ = mod(x)
    assert_close(lstm.trace(x.numpy()).output, out, 1e-10, "output")


@pytest.mark.parametrize("bad", [dict(num_layers=0), dict(hidden_size=0), dict(input_size=0), dict(proj_size=3),
                                 dict(proj_size=-1)], ids=str)
def test_refuses_the_sizes_torch_refuses(bad: dict) -> None:
    kw = {"input_size": 2, "hidden_size": 3, **bad}
    with pytest.raises(ValueError):
        torch.nn.LSTM(**kw)
    with pytest.raises(ModelError, match="|".join(bad)):
        LSTM.random(LSTMConfig(**kw), seed=0)


@pytest.mark.parametrize("case", [
    Case(2, True, 0, True, torch.float32, batch=2, ragged=True, state=True, D=16, H=32, T=300, seed=11),
    Case(3, False, 8, True, torch.float32, batch=6, ragged=True, D=16, H=32, T=120, seed=12),
], ids=str)
def test_long_sequences_stay_within_float32_tolerance(case: Case) -> None:
    check(case)


@pytest.mark.slow
def test_benchmark_size_matches_torch() -> None:
    """The configuration bench/trace_vs_torch.py times: 2 layers, hidden 256, input 65, T=500, float32."""
    check(Case(2, False, 0, True, torch.float32, D=65, H=256, T=500, seed=13))


@pytest.mark.parametrize("call,words", [
    (lambda m: m.trace(np.zeros(5)), "input must be"),
    (lambda m: m.trace(np.zeros((5, 3))), "input_size=2"),
    (lambda m: m.trace(np.zeros((0, 2))), "no timesteps"),
    (lambda m: m.trace(np.full((4, 2), np.nan)), "finite"),
    (lambda m: m.trace(np.full((4, 2), "a")), "numbers"),
    (lambda m: m.trace(np.zeros((3, 4, 2)), lengths=[4, 4]), "lengths must be 3"),
    (lambda m: m.trace(np.zeros((3, 4, 2)), lengths=[4, 0, 1]), "between 1"),
    (lambda m: m.trace(np.zeros((3, 4, 2)), lengths=[4, 5, 1]), "between 1"),
    (lambda m: m.trace(np.zeros((3, 4, 2)), lengths=[4.0, 2.0, 1.0]), "integers"),
    (lambda m: m.trace(np.zeros((3, 4, 2)), h0=np.zeros((2, 3))), "h0 must have shape"),
    (lambda m: m.trace(np.zeros((4, 2)), c0=np.zeros((3, 3))), "c0 must have shape"),
    (lambda m: m.trace(np.zeros((4, 2)), c0=np.full((2, 3), np.inf)), "c0 contains NaN"),
])
def test_bad_input_raises_model_error(call, words: str) -> None:
    lstm = LSTM.random(LSTMConfig(2, 3, num_layers=2), seed=0)
    with pytest.raises(ModelError, match=words):
        call(lstm)


def test_an_lstm_is_a_snapshot_of_the_torch_weights() -> None:
    """Training the torch module on must not change an LSTM built from it (state_dict tensors share memory)."""
    net = torch.nn.LSTM(3, 4, 2)
    snapshot = {k: v.clone().numpy() for k, v in net.state_dict().items()}
    lstm = LSTM.from_torch_state_dict(net.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    before = lstm.trace(x).output.copy()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.5)  # what an optimizer step does
    for k, v in lstm.to_torch_state_dict().items():
        np.testing.assert_array_equal(v, snapshot[k], err_msg=f"{k} followed the torch module")
    np.testing.assert_array_equal(lstm.trace(x).output, before)


def test_trace_never_disagrees_with_params() -> None:
    """Editing lstm.params in place must either be refused or be what the next trace uses."""
    lstm = LSTM.random(LSTMConfig(2, 3, num_layers=2), seed=0, dtype=np.float64)
    x = np.ones((4, 2))
    lstm.trace(x)
    try:
        lstm.params["weight_hh_l1"][:] = 0
    except ValueError:  # read-only weights: the LSTM is immutable, as its frozen dataclass suggests
        return
    fresh = LSTM(lstm.config, {k: v.copy() for k, v in lstm.params.items()})
    np.testing.assert_array_equal(lstm.trace(x).output, fresh.trace(x).output,
                                  err_msg="trace used cached weights that no longer match lstm.params")
