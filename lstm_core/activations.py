"""Gate activation functions, named the way PyTorch, Keras and ONNX name them.

An activation is a small frozen spec (name, alpha, beta) so that it can be stored in a model file's
JSON metadata and compared for equality; `apply` evaluates it in place where it can.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Activation:
    name: str  # one of KINDS
    alpha: float = 0.0
    beta: float = 0.0

    def to_json(self) -> dict:
        return {"name": self.name, "alpha": self.alpha, "beta": self.beta}

    @classmethod
    def from_json(cls, d: dict | str) -> Activation:
        if isinstance(d, str):
            return parse(d)
        return parse(d["name"], d.get("alpha"), d.get("beta"))


# Defaults follow ONNX where a kind takes parameters.
KINDS = {
    "sigmoid": None,
    "tanh": None,
    "relu": None,
    "linear": None,
    "softsign": None,
    "softplus": None,
    # clip(alpha * x + beta, 0, 1): Keras 2 and ONNX use alpha=0.2, Keras 3 uses alpha=1/6 (relu6(x+3)/6).
    "hard_sigmoid": (0.2, 0.5),
    "scaled_tanh": (1.0, 1.0),  # alpha * tanh(beta * x)
    "affine": (1.0, 0.0),  # alpha * x + beta
    "leaky_relu": (0.01, 0.0),
    "thresholded_relu": (1.0, 0.0),  # x if x > alpha else 0 (ONNX)
    "elu": (1.0, 0.0),  # x if x >= 0 else alpha * (exp(x) - 1)
}

SIGMOID = Activation("sigmoid")
TANH = Activation("tanh")
HARD_SIGMOID_KERAS2 = Activation("hard_sigmoid", 0.2, 0.5)
HARD_SIGMOID_KERAS3 = Activation("hard_sigmoid", 1.0 / 6.0, 0.5)


def parse(name: str, alpha: float | None = None, beta: float | None = None) -> Activation:
    """Activation from a name such as 'sigmoid' or 'hard_sigmoid'; raises ValueError for an unknown one."""
    key = name.lower().replace("-", "_")
    if key not in KINDS:
        raise ValueError(f"activation {name!r} is not supported; supported: {', '.join(sorted(KINDS))}")
    defaults = KINDS[key]
    if defaults is None:
        return Activation(key)
    return Activation(key, float(defaults[0] if alpha is None else alpha), float(defaults[1] if beta is None else beta))


def apply(act: Activation, x: NDArray, out: NDArray | None = None) -> NDArray:
    """Evaluate `act` on x, writing into `out` (which may be x itself)."""
    if out is None:
        out = np.empty_like(x)
    n = act.name
    if n == "sigmoid":
        # 0.5 * tanh(0.5 x) + 0.5 is the logistic function without overflow warnings for large |x|.
        np.multiply(x, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
    elif n == "tanh":
        np.tanh(x, out=out)
    elif n == "relu":
        np.maximum(x, 0, out=out)
    elif n == "linear":
        np.copyto(out, x)
    elif n == "softsign":
        d = 1 + np.abs(x)
        np.divide(x, d, out=out)
    elif n == "softplus":
        np.logaddexp(x, 0, out=out)
    elif n == "hard_sigmoid":
        np.multiply(x, act.alpha, out=out)
        out += act.beta
        np.clip(out, 0, 1, out=out)
    elif n == "scaled_tanh":
        np.multiply(x, act.beta, out=out)
        np.tanh(out, out=out)
        out *= act.alpha
    elif n == "affine":
        np.multiply(x, act.alpha, out=out)
        out += act.beta
    elif n == "leaky_relu":
        np.copyto(out, np.where(x >= 0, x, act.alpha * x))
    elif n == "thresholded_relu":
        np.copyto(out, np.where(x > act.alpha, x, 0))
    elif n == "elu":
        np.copyto(out, np.where(x >= 0, x, act.alpha * np.expm1(np.minimum(x, 0))))
    else:  # pragma: no cover - parse() rejects unknown names
        raise ValueError(n)
    return out
