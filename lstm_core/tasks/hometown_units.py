"""Which units of a hometown model carry the place to the blank, checked by clamping them.

1. Rank: on held-out sentences, how much of the variance of each unit's c at the blank the place
   explains (the correlation ratio eta^2 = between-place variance / total variance, per language,
   averaged over the two languages). A unit that holds the place has a different c for each place.
2. Check: clamp the top units and score the prediction at the blank again.
   - "forget": f = 0 at the separator right after the place, for these units only ("forget here");
   - "erase": c held at its mean over all sentences, from the place's last character to the blank.
   The same clamps on as many units drawn at random from the others are the control.
3. Read the gates on the seed's sentence: i at the place, f from the place to the blank, o at the blank.

`python -m lstm_core.tasks.hometown_units models/hometown.safetensors [K]` measures all of it and
writes it into the model's card and metadata (`meta["units"]`), weights untouched.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..interventions import Intervention, trace_with_interventions
from ..model import Model
from ..modelfile import load_model, save_model
from .base import HELD_OUT_SEED
from .hometown import EN, HOMETOWN, LANGUAGES, ZH, parse

SEED_SENTENCE = "我来自内蒙古，我能讲一口流利的"
OLAH_SENTENCE = "I grew up in France, I speak fluent "
CONTROL_DRAWS = 10


def blank_cells(model: Model, sentences: list[str]) -> NDArray:
    """(N, H) c of the first layer at the blank of each sentence."""
    out = []
    for s in sentences:
        t = parse(s)[3]
        tr, _ = model.trace_ids(model.tokenizer.encode(s[: t + 1]).ids)
        out.append(tr.c[0, 0, t])
    return np.array(out)


def place_selectivity(model: Model, sentences: list[str]) -> NDArray:
    """(H,) eta^2 of c at the blank with respect to the place, averaged over the two languages."""
    c = blank_cells(model, sentences)  # (N, H)
    codes = np.array([parse(s)[0].code for s in sentences])
    places = np.array([parse(s)[1] for s in sentences])
    scores = []
    for lang in LANGUAGES:
        sel = codes == lang.code
        x, p = c[sel], places[sel]
        between = sum((p == q).sum() * (x[p == q].mean(0) - x.mean(0)) ** 2 for q in set(p))  # (H,)
        scores.append(between / np.maximum(((x - x.mean(0)) ** 2).sum(0), 1e-12))
    return np.mean(scores, axis=0)


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
        story[u] = {"i_at_place": [round(float(v), 3) for v in i[a:b]],
                    "i_elsewhere_mean": round(float(np.delete(i, range(a, b)).mean()), 3),
                    "f_place_to_blank_min": round(float(f[b:].min()), 3),
                    "f_place_to_blank_mean": round(float(f[b:].mean()), 3),
                    "o_at_blank": round(float(o[-1]), 3), "o_before_mean": round(float(o[:-1].mean()), 3),
                    "c_at_place_end": round(float(tr.c[0, 0, b - 1, u]), 3),
                    "c_at_blank": round(float(tr.c[0, 0, -1, u]), 3)}
    return story


def measure(model: Model, k: int, n: int = 1000, seed: int = HELD_OUT_SEED) -> dict:
    """Everything `python -m lstm_core.tasks.hometown_units` writes: ranking, clamp effects, gate readings."""
    sentences = HOMETOWN.examples(n, seed, held_out=True)
    eta = place_selectivity(model, sentences)
    units = [int(u) for u in np.argsort(-eta)[:k]]
    mean_c = blank_cells(model, sentences).mean(0)
    rng = np.random.default_rng(0)
    others = [u for u in range(model.lstm.config.hidden_size) if u not in units]
    effects = {"none": blank_scores(model, sentences)}
    for kind in ("forget", "erase"):
        effects[kind] = blank_scores(model, sentences, lambda s, kind=kind: clamps(kind, units, s, mean_c))
        draws = []
        for _ in range(CONTROL_DRAWS):
            drawn = [int(u) for u in rng.choice(others, k, replace=False)]
            draws.append(blank_scores(model, sentences, lambda s, kind=kind, drawn=drawn:
                                      clamps(kind, drawn, s, mean_c)))
        effects[f"{kind}_random_units"] = (min(d[0] for d in draws), float(np.mean([d[1] for d in draws])))
    long_zh = ZH.sentence("内蒙古", [0, 3, 5, 13, 16, 20])  # six clauses, longer than any training gap
    long_en = EN.sentence("France", [0, 3, 4, 13, 16, 19])
    return {"place_units": units, "eta2": {u: round(float(eta[u]), 3) for u in units},
            "eta2_median_other": round(float(np.median(eta[others])), 3), "examples": n,
            "effects": {key: {"accuracy": round(a, 4), "p_correct": round(p, 4)} for key, (a, p) in effects.items()},
            "seed_sentence": gate_story(model, units, SEED_SENTENCE, "内蒙古"),
            "olah_sentence": gate_story(model, units, OLAH_SENTENCE, "France"),
            "long_zh": gate_story(model, units, long_zh[: parse(long_zh)[3] + 1], "内蒙古"),
            "long_en": gate_story(model, units, long_en[: parse(long_en)[3] + 1], "France")}


def units_section(found: dict) -> str:
    """The card's markdown for what `measure` found."""
    units, eff = found["place_units"], found["effects"]
    names = ", ".join(f"unit {u}" for u in units)

    def pct(key: str) -> str:
        return f"{eff[key]['accuracy']:.1%} right, p(answer) {eff[key]['p_correct']:.3f}"

    def worst(key: str) -> str:
        return f"worst {eff[key]['accuracy']:.1%} right, mean p(answer) {eff[key]['p_correct']:.3f}"

    lines = [
        "## Place units (measured after training)",
        f"Ranked by how much of the variance of c at the blank the place explains (eta^2 over {found['examples']:,} "
        f"held-out sentences, averaged over the two languages): {names} "
        f"(eta^2 {', '.join(str(found['eta2'][u]) for u in units)}; median of the other units "
        f"{found['eta2_median_other']}).",
        "",
        "Clamping them changes the prediction at the blank (first character of the language, "
        f"{found['examples']:,} held-out sentences):",
        f"- unclamped: {pct('none')}",
        f"- f = 0 at the separator after the place, for these units only (\"forget here\"): {pct('forget')}; "
        f"the same clamp on {len(units)} random other units ({CONTROL_DRAWS} draws): {worst('forget_random_units')}",
        f"- c held at its mean from the place to the blank (the place erased from these units): {pct('erase')}; "
        f"random other units: {worst('erase_random_units')}",
        "",
        "What a teacher should look for, on the seed's sentence 我来自内蒙古，我能讲一口流利的 "
        "(and on Olah's \"I grew up in France, I speak fluent \"):",
    ]
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


def main(argv: list[str]) -> None:
    path, k = Path(argv[0]), int(argv[1]) if len(argv) > 1 else 3
    model = load_model(path)
    found = measure(model, k)
    print(json.dumps(found, indent=1, ensure_ascii=False))
    card = model.meta["card"].split("## Place units")[0].rstrip("\n") + "\n\n" + units_section(found)
    meta = dict(model.meta, units=found, card=card)
    save_model(Model(model.lstm, model.input_kind, model.tokenizer, model.embedding, model.decoder_weight,
                     model.decoder_bias, meta), path)
    path.with_suffix(".md").write_text(card, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
