"""What an index stores and how its text is cut into traced windows (the definition of a "context").

The corpus is cut into windows of `window` tokens. Each window is traced on its own, from a zero
state, starting `warmup` tokens before it (fewer at the start of the text) and, for a model that
reads right to left too (bidirectional or reverse), ending `warmup` tokens after it; only the
window's own tokens are stored. So the value stored for token t is exactly what the explorer shows
for position t when given the text of `traced_span(t)`. Windows are independent, so they are traced
in parallel, on any number of processes or machines; the price is that a cell whose memory is
longer than its warm-up (plus its position in the window) sees a shorter history than in one
sequential trace of the whole corpus. README's corpus section gives the measured difference.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import ModelError

QUANTITIES = ("i", "f", "g", "o", "c", "h")
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class IndexSettings:
    window: int = 1024  # stored tokens per traced window; window + 2 * warmup stays within the page's 2000
    warmup: int = 128  # traced and discarded before (and after, for non-causal models) each window
    tokens_chunk: int = 65536  # tokens per build task and per stored chunk (large: one chunk read has a fixed cost)
    units_chunk: int = 8  # units per stored chunk: a one-unit query decodes this many columns
    batch: int = 64  # windows traced together in one batch (a whole task's, at the defaults)
    quantities: tuple[str, ...] = QUANTITIES
    mask_quantities: tuple[str, ...] = ("c", "h")  # quantities with pattern-search bit masks
    thresholds: tuple[float, ...] = THRESHOLDS  # the masks' thresholds: unit "on" means value >= threshold

    def __post_init__(self) -> None:
        for name in ("window", "tokens_chunk", "units_chunk", "batch"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ModelError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(self.warmup, int) or self.warmup < 0:
            raise ModelError(f"warmup must be a non-negative integer, got {self.warmup!r}")
        if self.tokens_chunk % self.window:
            raise ModelError(f"tokens_chunk ({self.tokens_chunk}) must be a multiple of window ({self.window}): "
                             "a build task stores whole windows")
        qs = tuple(self.quantities)
        if not qs or any(q not in QUANTITIES for q in qs) or len(set(qs)) != len(qs):
            raise ModelError(f"quantities must be distinct letters among {', '.join(QUANTITIES)}, got {qs!r}")
        missing = [q for q in self.mask_quantities if q not in qs]
        if missing:
            raise ModelError(f"pattern-search masks need the quantities they threshold: {', '.join(missing)} "
                             "is not among the recorded quantities")
        ts = tuple(float(t) for t in self.thresholds)
        if any(not 0 < t < 65504 for t in ts) or list(ts) != sorted(set(ts)):
            raise ModelError(f"thresholds must be increasing positive numbers, got {self.thresholds!r}")
        object.__setattr__(self, "quantities", qs)
        object.__setattr__(self, "mask_quantities", tuple(q for q in QUANTITIES if q in self.mask_quantities))
        object.__setattr__(self, "thresholds", ts)

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict) -> IndexSettings:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass(frozen=True)
class Geometry:
    """Where the windows and build tasks of an N-token corpus lie."""

    tokens: int
    settings: IndexSettings
    causal: bool  # False for a model that also reads right to left: its windows get a look-ahead

    @property
    def lookahead(self) -> int:
        return 0 if self.causal else self.settings.warmup

    @property
    def num_tasks(self) -> int:
        return -(-self.tokens // self.settings.tokens_chunk)

    def task_tokens(self, k: int) -> tuple[int, int]:
        """[start, end) of the tokens build task k stores."""
        tc = self.settings.tokens_chunk
        return k * tc, min(self.tokens, (k + 1) * tc)

    def window_of(self, t: int) -> tuple[int, int]:
        """[start, end) of the stored window that holds token t."""
        s = t - t % self.settings.window
        return s, min(self.tokens, s + self.settings.window)

    def traced_span(self, t: int) -> tuple[int, int]:
        """[start, end) of the tokens traced from a zero state to produce token t's stored values."""
        s, e = self.window_of(t)
        return max(0, s - self.settings.warmup), min(self.tokens, e + self.lookahead)
