"""Which units of a hometown model carry the place to the blank, checked by clamping them.

Each language on its own (the model keeps Chinese and English places in different units):
1. Rank: on held-out sentences, how much of the variance of each unit's c at the blank the place
   explains (the correlation ratio eta^2 = between-place variance / total variance). A unit that holds
   the place has a different c for each place.
2. Check by clamping, and score the prediction at the blank again:
   - "erase": c held at its mean over the language's sentences, from the place's last character to the
     blank. The best-ranked units are taken until erasing them brings the accuracy below one half;
   - "forget": f = 0 at the separator right after the place, for these units only ("forget here").
   The same clamps on as many units drawn at random from the others are the control.
3. Read the gates on the seed's sentence (and Olah's): i at the place, f up to the blank, o at the blank.

`python -m lstm_core.tasks.hometown_units models/hometown.safetensors` measures all of it and writes it
into the model's card and metadata (`meta["units"]`), with the card's account of the held-out split and
the accuracy per gap length (`hometown.split_section`); the weights are untouched.
"""
from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..interventions import Intervention, trace_with_interventions
from ..model import Model
from ..modelfile import load_model, save_model
from .base import HELD_OUT_SEED
from .hometown import EN, HOMETOWN, LANGUAGES, ZH, parse, split_section

SEED_SENTENCE = "我来自内蒙古，我能讲一口流利的"
OLAH_SENTENCE = "I grew up in France, I speak fluent "
CONTROL_DRAWS = 3


def blank_cells(model: Model, sentences: list[str]) -> NDArray:
    """(N, H) c of the first layer at the blank of each sentence."""
    out = []
    for s in sentences:
        t = parse(s)[3]
        tr, _ = model.trace_ids(model.tokenizer.encode(s[: t + 1]).ids)
        out.append(tr.c[0, 0, t])
    return np.array(out)


def place_selectivity(c: NDArray, places: list[str]) -> NDArray:
    """(H,) eta^2 of c (N, H) at the blank with respect to the place: between-place / total variance."""
    p = np.array(places)
    between = sum((p == q).sum() * (c[p == q].mean(0) - c.mean(0)) ** 2 for q in set(places))  # (H,)
    return between / np.maximum(((c - c.mean(0)) ** 2).sum(0), 1e-12)


def clamps(kind: str, units: list[int], s: str, mean_c: NDArray) -> list[Intervention]:
    """The interventions of one kind ("forget" or "erase") on `units` for the sentence s."""
    lang, place, _, t = parse(s)
    end = len(lang.opening) + len(place) - 1  # the place's last character
    if kind == "forget":
        return [Intervention(0, 0, u, "f", 0.0, (end + 1,)) for u in units]
    return [Intervention(0, 0, u, "c", float(mean_c[u]), tuple(range(end, t + 1))) for u in units]


def blank_scores(model: Model, sentences: list[str], make=None) -> tuple[float, float]:
    """(accuracy of the language's first character at the blank, mean probability given to it), with the
    interventions make(s) applied (none when make is None)."""
    tok, right, prob = model.tokenizer, 0, 0.0
    for s in sentences:
        t = parse(s)[3]
        x = model.inputs(tok.encode(s[: t + 1]).ids)
        p = model.decode(trace_with_interventions(model.lstm, x, make(s) if make else []))[t]  # (V,)
        want = tok.index[s[t + 1]]
        right += int(np.argmax(p)) == want
        prob += float(p[want])
    return right / len(sentences), prob / len(sentences)


def gate_story(model: Model, units: list[int], text: str, place: str) -> dict:
    """i at the place's characters, f from the place to the blank, o at the blank (the last position)."""
    tr = model.trace_text(text).trace
    a, b = text.index(place), text.index(place) + len(place)
    story = {}
    for u in units:
        i, f, o = tr.i[0, 0, :, u], tr.f[0, 0, :, u], tr.o[0, 0, :, u]
        story[str(u)] = {"i_at_place": [round(float(v), 3) for v in i[a:b]],
                    "i_elsewhere_mean": round(float(np.delete(i, range(a, b)).mean()), 3),
                    "f_place_to_blank_min": round(float(f[b:].min()), 3),
                    "f_place_to_blank_mean": round(float(f[b:].mean()), 3),
                    "o_at_blank": round(float(o[-1]), 3), "o_before_mean": round(float(o[:-1].mean()), 3),
                    "c_at_place_end": round(float(tr.c[0, 0, b - 1, u]), 3),
                    "c_at_blank": round(float(tr.c[0, 0, -1, u]), 3)}
    return story


def _scores(model: Model, sentences: list[str], kind: str, units: list[int], mean_c: NDArray) -> dict:
    a, p = blank_scores(model, sentences, lambda s: clamps(kind, units, s, mean_c))
    return {"accuracy": round(a, 4), "p_correct": round(p, 4)}


def measure_language(model: Model, sentences: list[str], k_max: int, rng: np.random.Generator) -> dict:
    """One language's place units: ranked by eta^2 of c at the blank over its places; as many of the best
    as it takes for erasing them to bring the accuracy below one half (at most k_max); their clamp
    effects beside those of as many random other units (CONTROL_DRAWS draws)."""
    c = blank_cells(model, sentences)  # (N, H)
    eta = place_selectivity(c, [parse(s)[1] for s in sentences])
    order = [int(u) for u in np.argsort(-eta)]
    mean_c = c.mean(0)
    for k in range(1, k_max + 1):
        erase = _scores(model, sentences, "erase", order[:k], mean_c)
        if erase["accuracy"] < 0.5:
            break
    units, others = order[:k], order[k:]
    effects = {"none": dict(zip(("accuracy", "p_correct"), (round(v, 4) for v in blank_scores(model, sentences)),
                                strict=True)),
               "erase": erase, "forget": _scores(model, sentences, "forget", units, mean_c)}
    for kind in ("erase", "forget"):
        draws = [_scores(model, sentences, kind, [int(u) for u in rng.choice(others, k, replace=False)], mean_c)
                 for _ in range(CONTROL_DRAWS)]
        effects[f"{kind}_random_units"] = {"accuracy": round(float(np.mean([d["accuracy"] for d in draws])), 4),
                                           "worst_accuracy": min(d["accuracy"] for d in draws),
                                           "p_correct": round(float(np.mean([d["p_correct"] for d in draws])), 4)}
    return {"place_units": units, "eta2": {str(u): round(float(eta[u]), 3) for u in units},
            "eta2_median_other": round(float(np.median(eta[others])), 3), "examples": len(sentences),
            "effects": effects}


def measure(model: Model, k_max: int = 6, n: int = 400, seed: int = HELD_OUT_SEED) -> dict:
    """Everything `python -m lstm_core.tasks.hometown_units` writes. Per language (`by_language`), and at
    the top the lesson's view: `place_units` the Chinese units then the English ones not already named,
    each unit's eta^2 in its language, the median eta^2 of the other units, the Chinese clamp effects."""
    sentences = HOMETOWN.examples(n, seed, held_out=True)
    rng = np.random.default_rng(0)
    by = {lang.code: measure_language(model, [s for s in sentences if parse(s)[0] is lang], k_max, rng)
          for lang in LANGUAGES}
    units = by["zh"]["place_units"] + [u for u in by["en"]["place_units"] if u not in by["zh"]["place_units"]]
    long_zh = ZH.sentence("内蒙古", [0, 3, 5, 13, 16, 20])  # six clauses, longer than any training gap
    long_en = EN.sentence("France", [0, 3, 4, 13, 16, 19])
    return {"place_units": units, "eta2": {**by["en"]["eta2"], **by["zh"]["eta2"]},
            "eta2_median_other": by["zh"]["eta2_median_other"], "examples": n, "effects": by["zh"]["effects"],
            "by_language": by,
            "seed_sentence": gate_story(model, by["zh"]["place_units"], SEED_SENTENCE, "内蒙古"),
            "olah_sentence": gate_story(model, by["en"]["place_units"], OLAH_SENTENCE, "France"),
            "long_zh": gate_story(model, by["zh"]["place_units"], long_zh[: parse(long_zh)[3] + 1], "内蒙古"),
            "long_en": gate_story(model, by["en"]["place_units"], long_en[: parse(long_en)[3] + 1], "France")}


def units_section(found: dict) -> str:
    """The card's markdown for what `measure` found."""
    lines = [
        "## Place units (measured after training)",
        f"Measured on {found['examples']:,} held-out sentences, each language on its own: the units are ranked by "
        "how much of the variance of their c at the blank the place explains (eta^2), and the best are taken "
        "until erasing them (c held at its mean from the place's last character to the blank) brings the "
        "accuracy below one half. The control clamps as many other units drawn at random "
        f"({CONTROL_DRAWS} draws; mean, and worst draw). `meta[\"units\"][\"place_units\"]` lists the Chinese "
        "units first (the default lesson is the seed's sentence), then the English ones.",
        "",
    ]
    names = {"zh": "Chinese", "en": "English"}
    for code, one in found["by_language"].items():
        eff, units = one["effects"], one["place_units"]

        def row(key: str, eff: dict = eff) -> str:
            e = eff[key]
            worst = f", worst draw {e['worst_accuracy']:.1%}" if "worst_accuracy" in e else ""
            return f"{e['accuracy']:.1%} right{worst}, p(answer) {e['p_correct']:.3f}"

        lines += [f"**{names[code]}**: " + ", ".join(f"unit {u} (eta^2 {one['eta2'][str(u)]})" for u in units)
                  + f"; median eta^2 of the other units {one['eta2_median_other']}.",
                  f"- unclamped: {row('none')}",
                  f"- erased: {row('erase')}; {len(units)} random other units erased: {row('erase_random_units')}",
                  f"- f = 0 at the separator after the place (\"forget here\"): {row('forget')}; random other "
                  f"units: {row('forget_random_units')}", ""]
    lines.append("What a teacher should look for, on the seed's sentence 我来自内蒙古，我能讲一口流利的 "
                 "(Chinese units) and on Olah's \"I grew up in France, I speak fluent \" (English units):")
    for key, label in (("seed_sentence", "seed"), ("olah_sentence", "Olah"), ("long_zh", "six clauses, zh"),
                       ("long_en", "six clauses, en")):
        for u, g in found[key].items():
            lines.append(f"- {label}, unit {u}: i at the place {g['i_at_place']} (elsewhere "
                         f"{g['i_elsewhere_mean']}); f from the place to the blank min {g['f_place_to_blank_min']}, "
                         f"mean {g['f_place_to_blank_mean']}; o at the blank {g['o_at_blank']} (before "
                         f"{g['o_before_mean']}); c {g['c_at_place_end']} after the place, {g['c_at_blank']} "
                         "at the blank")
    lines.append("")
    lines.append("Measured by `python -m lstm_core.tasks.hometown_units models/hometown.safetensors`, which "
                 "writes this section and `meta[\"units\"]`; the weights are the trainer's.")
    return "\n".join(lines) + "\n"


def write_units(path: Path, found: dict) -> None:
    """Put what `measure` found into the model file's metadata and card (and the .md next to it)."""
    model = load_model(path)
    prov = dict(model.meta["provenance"])
    step = f"python -m lstm_core.tasks.hometown_units {shlex.quote(str(path))}"
    card = re.sub(r"## Held-out split\n.*?(?=## Architecture)", "", model.meta["card"], flags=re.S)
    card = card.split("## Place units")[0].rstrip("\n") + "\n"
    if step not in prov["command"]:  # the card's reproduce block lists every step that made the file
        card = card.replace(prov["command"] + "\n```", f"{prov['command']}\n{step}\n```", 1)
        prov["command"] += f"\n{step}"
    split = split_section(model.meta["metrics"], prov["data"]["held_out_examples"])
    card = card.replace("## Architecture", split + "\n## Architecture", 1) + "\n" + units_section(found)
    meta = dict(model.meta, units=found, card=card, provenance=prov)
    save_model(replace(model, meta=meta), path)
    path.with_suffix(".md").write_text(card, encoding="utf-8")


def main(argv: list[str]) -> None:
    found = measure(load_model(argv[0]))
    print(json.dumps(found, indent=1, ensure_ascii=False))
    write_units(Path(argv[0]), found)


if __name__ == "__main__":
    main(sys.argv[1:])
