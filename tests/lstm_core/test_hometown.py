"""The hometown task: its sentences follow the seed's template, and its held-out split is what it claims."""
from __future__ import annotations

import itertools
import re
from collections import Counter

import pytest

from lstm_core.tasks import HELD_OUT_SEED, TASKS
from lstm_core.tasks.hometown import EN, LANGUAGES, ZH, held_out_combination, parse

TASK = TASKS["hometown"]
PATTERNS = {
    "zh": re.compile(r"我来自(?P<place>[^，]+)，(?P<middle>(?:[^，]+，)*)我能讲一口流利的(?P<lang>[^。]+)。"),
    "en": re.compile(r"I grew up in (?P<place>[^,]+), (?P<middle>(?:[^,]+, )*)I speak fluent (?P<lang>[^.]+)\."),
}


def _read(s: str):
    """(language, place, clauses, spoken language) read from a sentence by the template, not by the task."""
    code = "zh" if s.startswith("我") else "en"
    m = PATTERNS[code].fullmatch(s)
    assert m, s
    sep = "，" if code == "zh" else ", "
    clauses = [c for c in m.group("middle").split(sep) if c]
    return code, m.group("place"), clauses, m.group("lang")


def test_the_seed_sentence_and_olahs_are_in_the_task() -> None:
    assert ZH.sentence("内蒙古", []) == "我来自内蒙古，我能讲一口流利的蒙古语。"
    assert EN.sentence("France", []) == "I grew up in France, I speak fluent French."
    assert len(ZH.places) >= 12 and len(EN.places) >= 12


@pytest.mark.parametrize("lang", LANGUAGES, ids=lambda lang: lang.code)
def test_languages_start_differently_and_clauses_name_no_place_or_language(lang) -> None:
    firsts = [spoken[0] for spoken in lang.places.values()]
    assert len(set(firsts)) == len(firsts)  # the first character alone says which language
    for clause in lang.clauses:
        assert lang.sep.strip() not in clause and lang.closing not in clause and lang.opening not in clause
        for place, spoken in lang.places.items():
            assert place not in clause and spoken not in clause, clause
    assert len(set(lang.clauses)) == len(lang.clauses)


@pytest.mark.parametrize("held_out", [False, True])
def test_sentences_follow_the_template(held_out: bool) -> None:
    seen = Counter()
    for s in TASK.examples(3000, seed=HELD_OUT_SEED if held_out else 11, held_out=held_out):
        code, place, clauses, spoken = _read(s)
        lang = ZH if code == "zh" else EN
        assert lang.places[place] == spoken
        assert all(c in lang.clauses for c in clauses) and len(set(clauses)) == len(clauses)
        assert len(clauses) in (range(1, 7) if held_out else range(0, 5))
        _, p, k, t = parse(s)
        assert (p, k) == (place, len(clauses)) and s[t + 1] == spoken[0] and t in TASK.scored(s)
        seen[code, len(clauses)] += 1
    assert set(seen) == {(c, k) for c in ("zh", "en") for k in (range(1, 7) if held_out else range(0, 5))}
    zh = sum(v for (c, _), v in seen.items() if c == "zh")
    assert 1300 < zh < 1700  # both languages, about equally


def _gap(s: str) -> int:
    code, place, clauses, _ = _read(s)
    blank = s.rindex("的") if code == "zh" else s.rindex("fluent ") + 6
    return blank - (s.index(place) + len(place) - 1)


def test_no_training_example_uses_a_held_out_combination_or_gap() -> None:
    # Independently: the longest training gap is that of the four longest clauses, over all 4-sets.
    longest = {}
    for lang in LANGUAGES:
        best = max(itertools.combinations(range(len(lang.clauses)), 4),
                   key=lambda ids: sum(len(lang.clauses[j]) for j in ids))
        longest[lang.code] = _gap(lang.sentence(next(iter(lang.places)), list(best)))
    train = TASK.examples(5000, seed=12)
    for s in train:
        code, _, clauses, _ = _read(s)
        lang = ZH if code == "zh" else EN
        assert not held_out_combination(lang, [lang.clauses.index(c) for c in clauses])
        assert _gap(s) <= longest[code]
    train_sets = {frozenset(_read(s)[2]) for s in train}
    reserved = 0
    for s in TASK.examples(3000, seed=HELD_OUT_SEED, held_out=True):
        code, _, clauses, _ = _read(s)
        lang = ZH if code == "zh" else EN
        if len(clauses) <= 4:
            assert held_out_combination(lang, [lang.clauses.index(c) for c in clauses])
            assert frozenset(clauses) not in train_sets
            reserved += 1
        else:
            assert _gap(s) > longest[code]  # longer than any training gap
    assert reserved > 1000


def test_about_one_combination_in_five_is_reserved() -> None:
    for lang in LANGUAGES:
        pairs = list(itertools.combinations(range(len(lang.clauses)), 2))
        frac = sum(held_out_combination(lang, list(p)) for p in pairs) / len(pairs)
        assert 0.12 < frac < 0.28
        assert not held_out_combination(lang, [])  # the seed's own sentence is trained on
