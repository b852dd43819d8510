"""`python -m app index`: trace a corpus once and store every unit's values, for corpus-wide queries."""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

NAME = "index"
HELP = "trace a text file with a model and store every gate of every unit at every token (a corpus index)"
SHIPPED_ROOT = Path("var/indexes")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="a gatescope .safetensors model file")
    p.add_argument("corpus", nargs="?", help="a UTF-8 text file")
    p.add_argument("--out", help="the index directory (rerun the same command to resume an interrupted build)")
    p.add_argument("--shipped", action="store_true",
                   help="index each model in --models on its own held-out text, into var/indexes/<id>")
    p.add_argument("--models", default="models", help="with --shipped: where the model files are (default models/)")
    p.add_argument("--census", nargs="?", const="", metavar="JSON",
                   help="then rank every c and h unit by the built-in features (and --regex/--labels) and write "
                        "the census as JSON (default DIR/census.json); with --shipped also models/<id>.census.json "
                        "and the census section of models/<id>.md")
    p.add_argument("--regex", action="append", default=[], help="with --census: a feature that is 1 inside matches")
    p.add_argument("--labels", action="append", default=[], help="with --census: a per-token label file "
                                                                 "(.npy, or one number per line)")
    p.add_argument("--quantities", default="ifgoch", help="which of i, f, g, o, c, h to store (default all six)")
    p.add_argument("--masks", default="ch", help="quantities with pattern-search masks (default c and h)")
    p.add_argument("--thresholds", help="pattern-search mask thresholds, comma-separated (default 0.1,...,0.9)")
    p.add_argument("--window", type=int, default=1024, help="tokens per traced window (default 1024)")
    p.add_argument("--warmup", type=int, default=128,
                   help="tokens traced and discarded before each window (and after, for non-causal models)")
    p.add_argument("--batch", type=int, default=64, help="windows traced together (default 64)")
    p.add_argument("--tokens-chunk", type=int, default=65536, help="tokens per task and stored chunk")
    p.add_argument("--units-chunk", type=int, default=8, help="units per stored chunk")
    p.add_argument("--workers", type=int, help="local worker processes (default: every core; 1 = this process)")
    p.add_argument("--dask", metavar="ADDRESS", help="build on this Dask distributed scheduler instead "
                                                     "(its workers must see the same paths)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from lstm_core import ModelError

    try:
        if args.shipped:
            if args.model or args.corpus or args.out:
                raise ModelError("--shipped chooses the models, texts and directories itself: give no MODEL, "
                                 "CORPUS or --out with it")
            return _shipped(args)
        if not (args.model and args.corpus and args.out):
            raise ModelError("give MODEL CORPUS --out DIR (or --shipped)")
        return _one(args, Path(args.model), Path(args.corpus), None, Path(args.out), None)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _settings(args: argparse.Namespace):
    from lstm_core import ModelError
    from lstm_core.corpus import IndexSettings

    try:
        thresholds = tuple(float(t) for t in args.thresholds.split(",")) if args.thresholds else None
    except ValueError:
        raise ModelError(f"--thresholds must be numbers separated by commas, got {args.thresholds!r}") from None
    kw = {"thresholds": thresholds} if thresholds else {}
    return IndexSettings(window=args.window, warmup=args.warmup, tokens_chunk=args.tokens_chunk,
                         units_chunk=args.units_chunk, batch=args.batch, quantities=tuple(args.quantities),
                         mask_quantities=tuple(args.masks), **kw)


def _one(args, model: Path, corpus: Path | None, text: tuple[str, str] | None, out: Path, card: Path | None) -> int:
    from lstm_core.corpus import CorpusIndex, build_index, census_markdown, index_features, run_census

    command = "python -m app " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    try:
        r = build_index(model, corpus, out, _settings(args), text=text[1] if text else None,
                        corpus_name=text[0] if text else None, workers=args.workers, dask=args.dask,
                        progress=not args.no_progress, command=command)
    except KeyboardInterrupt:  # while the text was being read: nothing traced yet
        print(f"interrupted before tracing began; run the same command again to build {out}", file=sys.stderr)
        return 130
    done = len(_done(r))
    if r.interrupted:
        print(f"interrupted: {done} of {r.tasks} chunks of {out} are written; run the same command again to "
              "continue", file=sys.stderr)
        return 130
    print(f"{out}: {r.manifest.corpus['tokens']:,} tokens of {r.manifest.corpus['name']} by {r.manifest.model['id']}, "
          f"{', '.join(r.manifest.settings.quantities)} ({r.ran} of {r.tasks} chunks traced now)", file=sys.stderr)
    if args.census is None:
        return 0
    index = CorpusIndex.open(out)
    census = run_census(index, index_features(index, tuple(args.regex), tuple(args.labels)))
    md = census_markdown(census, index.manifest.model["directions"])
    target = Path(args.census) if args.census else out / "census.json"
    target.write_text(json.dumps(census.to_json(), ensure_ascii=False) + "\n", encoding="utf-8")
    if card is not None:
        card.with_suffix(".census.json").write_text(target.read_text(encoding="utf-8"), encoding="utf-8")
        _put_section(card.with_suffix(".md"), md)
    print(md)
    return 0


def _shipped(args) -> int:
    from lstm_core import load_model
    from lstm_core.corpus import held_out_text

    status = 0
    for path in sorted(Path(args.models).glob("*.safetensors")):
        held = held_out_text(load_model(path))
        if held is None:
            print(f"{path.stem}: no held-out text (a task model); skipped", file=sys.stderr)
            continue
        print(f"{path.stem}: indexing its {held[0]}", file=sys.stderr)
        status = _one(args, path, None, held, SHIPPED_ROOT / path.stem, path) or status
        if status == 130:
            break
    return status


def _done(r) -> set[int]:
    from lstm_core.corpus.store import done_tasks

    return done_tasks(r.path, r.tasks)


def _put_section(md_path: Path, section: str) -> None:
    """Put the census section at the end of a model card, replacing an earlier census section."""
    text = md_path.read_text(encoding="utf-8")
    head = section.splitlines()[0]
    if head in text:
        text = text[: text.index(head)].rstrip("\n") + "\n"
    md_path.write_text(text + "\n" + section, encoding="utf-8")
