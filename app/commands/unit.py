"""`python -m app unit`: one unit over a corpus index, in the terminal (the page's unit view, as text)."""
from __future__ import annotations

import argparse
import json
import sys

NAME = "unit"
HELP = "one unit over a corpus index: its top and bottom contexts, activation histogram and saturation"
BLOCKS = " ▏▎▍▌▋▊▉█"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("index", help="an index directory (python -m app index ... --out DIR)")
    p.add_argument("--quantity", "-q", default="c", choices=list("ifgoch"), help="default c")
    p.add_argument("--layer", "-l", type=int, default=0)
    p.add_argument("--direction", "-d", type=int, default=0)
    p.add_argument("--unit", "-u", type=int, required=True)
    p.add_argument("-k", type=int, default=8, help="contexts at each end (default 8)")
    p.add_argument("--bins", type=int, default=20, help="histogram bins (default 20)")
    p.add_argument("--model", help="refuse unless this model file built the index (sha256)")
    p.add_argument("--json", action="store_true", help="print the whole answer as JSON (as /api/corpus/.../unit)")
    p.add_argument("--colour", choices=["auto", "always", "never"], default="auto",
                   help="colour the text by the unit (default: when printing to a terminal)")


def run(args: argparse.Namespace) -> int:
    from lstm_core.corpus import CorpusIndex, UnitRef, unit_report

    index = CorpusIndex.open(args.index)  # a ModelError is a sentence, exit 2 (app.commands.main)
    if args.model:
        index.check_model(args.model)
    r = unit_report(index, UnitRef(args.quantity, args.layer, args.direction, args.unit), args.k, args.bins)
    if args.json:
        json.dump(r.to_json(), sys.stdout, ensure_ascii=False)
        print()
        return 0
    colour = args.colour == "always" or (args.colour == "auto" and sys.stdout.isatty())
    m = index.manifest
    print(f"{args.quantity} L{args.layer} d{args.direction} #{args.unit} over {index.num_tokens:,} tokens of "
          f"{m.corpus['name']} (model {m.model['id']})")
    (lo, hi), (below, above) = r.limits, r.saturation
    print(f"mean {r.mean:+.3f}, std {r.std:.3f}; saturated {100 * below:.1f}% of tokens below {lo:+.2f}, "
          f"{100 * above:.1f}% above {hi:+.2f}")
    scale = max(abs(r.histogram.edges[0]), abs(r.histogram.edges[-1]), 1e-6)
    for title, contexts in (("highest", r.top), ("lowest", r.bottom)):
        print(f"\n{title} (token, value, text around it; the token {'reversed' if colour else 'in ⟦ ⟧'}):")
        for c in contexts:
            print(f"  {c.token:>9,} {c.value:+8.3f}  {line(c.snippet, args.quantity, scale, colour)}")
    print("\nhistogram over every token:")
    top = max(int(r.histogram.counts.max()), 1)
    for a, b, n in zip(r.histogram.edges[:-1], r.histogram.edges[1:], r.histogram.counts, strict=True):
        print(f"  [{a:+8.3f}, {b:+8.3f})  {bar(n / top, 40)} {n:,}")
    return 0


def bar(x: float, width: int) -> str:
    eighths = round(x * width * 8)
    return "█" * (eighths // 8) + (BLOCKS[eighths % 8] if eighths % 8 else "")


def line(snip, quantity: str, scale: float, colour: bool) -> str:
    """The snippet on one line: whitespace made visible, the token marked, each character's background
    coloured by the unit (blue low, red high; gates on 0..1) when `colour`."""
    a, b = snip.highlight
    out = []
    for k, ch in enumerate(snip.text):
        shown = {"\n": "⏎", "\t": "⇥", "\r": "␍"}.get(ch, ch)
        if colour:
            v = snip.values[k] if snip.values is not None else float("nan")
            x = v if quantity in "ifo" else 0.5 + v / (2 * scale)
            shown = _ansi(x, k in range(a, b)) + shown + "\x1b[0m"
        elif k == a:
            shown = "⟦" + shown
        if not colour and k == b - 1:
            shown += "⟧"
        out.append(shown)
    return "".join(out)


def _ansi(x: float, mark: bool) -> str:
    """A 24-bit background from blue (x = 0) through white to red (x = 1); the token reversed and bold."""
    if x != x:  # NaN: between tokens
        return "\x1b[0m"
    x = min(1.0, max(0.0, x))
    r, g, b = (255, round(255 * 2 * (1 - x)), round(255 * 2 * (1 - x))) if x > 0.5 else \
        (round(255 * 2 * x), round(255 * 2 * x), 255)
    return f"\x1b[48;2;{r};{g};{b}m\x1b[30m" + ("\x1b[1;7m" if mark else "")
