"""Adam, global gradient-norm clipping and the learning-rate schedule."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def clip_grad_norm(grads: dict[str, NDArray], max_norm: float) -> float:
    """Scale all gradients together so their global L2 norm is at most max_norm; return the norm before.

    Same rule as torch.nn.utils.clip_grad_norm_ (factor max_norm / (norm + 1e-6), only when above).
    """
    norm = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values()))
    if max_norm > 0 and norm > max_norm:
        k = max_norm / (norm + 1e-6)
        for g in grads.values():
            g *= g.dtype.type(k)
    return norm


def learning_rate(step: int, base: float, total: int, schedule: str = "cosine", warmup: int = 0,
                  final_fraction: float = 0.1) -> float:
    """LR for 0-based `step`: linear warmup, then constant or cosine decay to final_fraction * base."""
    if warmup and step < warmup:
        return base * (step + 1) / warmup
    if schedule == "constant" or total <= warmup:
        return base
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * t)))


@dataclass
class Adam:
    """torch.optim.Adam's update (no weight decay), moments kept in the parameters' dtype."""

    lr: float = 2e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    t: int = 0  # updates done so far
    m: dict[str, NDArray] = field(default_factory=dict)
    v: dict[str, NDArray] = field(default_factory=dict)

    def step(self, params: dict[str, NDArray], grads: dict[str, NDArray], lr: float | None = None) -> None:
        """Update params in place."""
        lr = self.lr if lr is None else lr
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        with np.errstate(over="ignore", invalid="ignore"):  # the loop reports non-finite weights itself
            self._update(params, grads, lr / c1, c2)

    def _update(self, params: dict[str, NDArray], grads: dict[str, NDArray], step_size: float, c2: float) -> None:
        b1, b2 = self.betas
        for k, p in params.items():
            g = grads[k]
            m = self.m.setdefault(k, np.zeros_like(p))
            v = self.v.setdefault(k, np.zeros_like(p))
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v / c2)
            denom += self.eps
            p -= step_size * (m / denom)

    def state_tensors(self) -> dict[str, NDArray]:
        """Moments as flat tensors for a safetensors sidecar (`m.<name>`, `v.<name>`)."""
        return {**{f"m.{k}": a for k, a in self.m.items()}, **{f"v.{k}": a for k, a in self.v.items()}}

    def load_state_tensors(self, tensors: dict[str, NDArray], t: int) -> None:
        self.t = t
        self.m = {k[2:]: np.array(a) for k, a in tensors.items() if k.startswith("m.")}
        self.v = {k[2:]: np.array(a) for k, a in tensors.items() if k.startswith("v.")}
