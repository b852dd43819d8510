"""The seed's sentence as a task: 我来自内蒙古，…，我能讲一口流利的蒙古语。 and its English twin.

"I grew up in France, …, I speak fluent French." (Olah, "Understanding LSTM Networks").

Between the place and the blank go 0 to 6 distractor clauses (no place or language in them), so the
place must be written into the cell, kept across the clauses and read out at the blank. Chinese and
English examples come in equal numbers and share one character vocabulary. Every character of every
example is trained on (the model learns the sentences, not only the answer), the blank with 100 times
the weight; the score is the prediction at the blank, of the language's first character, which no two
languages share.

Held-out, built so that it measures memory and nothing was seen in training:
- training examples have 0 to 4 clauses, and never a combination (the set of clauses) that
  `held_out_combination` reserves, about one in five;
- held-out examples have 1 to 6 clauses: 1 to 4 only in reserved combinations, 5 or 6 only with a gap
  longer than the longest training gap of that language (`Language.max_train_gap`), counted in characters from
  the place's last character to the blank.
"""
from __future__ import annotations

import zlib
from collections import defaultdict

import numpy as np

from ..model import Model
from .base import HELD_OUT_SEED, Task, predictions

ZH_PLACES = {  # place -> language; no two languages share a first character
    "内蒙古": "蒙古语", "广东": "粤语", "四川": "四川话", "上海": "上海话", "北京": "普通话", "西藏": "藏语",
    "新疆": "维吾尔语", "英国": "英语", "法国": "法语", "日本": "日语", "韩国": "韩语", "德国": "德语",
    "俄罗斯": "俄语", "西班牙": "西班牙语",
}
EN_PLACES = {
    "Inner Mongolia": "Mongolian", "Guangdong": "Cantonese", "Tibet": "Tibetan", "England": "English",
    "Wales": "Welsh", "France": "French", "Japan": "Japanese", "Korea": "Korean", "Germany": "German",
    "Russia": "Russian", "Spain": "Spanish", "Italy": "Italian", "Portugal": "Portuguese",
    "the Netherlands": "Dutch",
}
ZH_CLAUSES = (
    "我的父亲是一名老师", "我们家门前有一条小河", "小时候我喜欢在院子里看书", "冬天常常下很大的雪",
    "我每天骑自行车去上学", "妈妈做的饭特别好吃", "后来我考上了大学", "我在大学里学的是计算机",
    "毕业以后我当了医生", "我有一个弟弟和一个妹妹", "周末我们常常去爬山", "我很喜欢听音乐",
    "朋友们都说我很爱笑", "现在我住在一个小城市", "我每天早上六点起床", "我养了一只小猫",
    "我的爷爷已经八十岁了", "工作以后我去过很多地方", "我最爱吃妈妈包的饺子", "夏天我们一家人去河边钓鱼",
    "我对历史很感兴趣", "我的邻居是一位画家", "我们学校有一个很大的操场", "我从小就喜欢唱歌",
)
EN_CLAUSES = (
    "my father was a teacher", "a small river ran past our house", "as a child I read in the garden",
    "it often snowed in winter", "I rode my bike to school", "my mother was a wonderful cook",
    "later I went to university", "I studied computer science", "after that I became a doctor",
    "I have a brother and a sister", "we often went hiking", "I love listening to music",
    "my friends say I laugh a lot", "now I live in a small town", "I get up at six every day",
    "I have a little cat", "my grandfather is eighty", "since then I have travelled a lot",
    "my favourite food is dumplings", "in summer we went fishing", "I am interested in history",
    "our neighbour was a painter", "our school had a big playground", "I have always loved singing",
)


class Language:
    """One language's templates: opening + place + sep + clauses (each + sep) + closing + language + end."""

    def __init__(self, code: str, places: dict[str, str], clauses: tuple[str, ...], opening: str, sep: str,
                 closing: str, end: str) -> None:
        self.code, self.places, self.clauses = code, places, clauses
        self.opening, self.sep, self.closing, self.end = opening, sep, closing, end
        longest = sorted(len(c) for c in clauses)[-4:]
        self.max_train_gap = self.gap(sum(longest), 4)  # the longest gap any training example has

    def gap(self, clause_chars: int, k: int) -> int:
        """Steps from the place's last character to the blank (the closing's last character)."""
        return clause_chars + (k + 1) * len(self.sep) + len(self.closing)

    def sentence(self, place: str, clause_ids: list[int]) -> str:
        middle = "".join(self.clauses[j] + self.sep for j in clause_ids)
        return f"{self.opening}{place}{self.sep}{middle}{self.closing}{self.places[place]}{self.end}"


ZH = Language("zh", ZH_PLACES, ZH_CLAUSES, "我来自", "，", "我能讲一口流利的", "。")
EN = Language("en", EN_PLACES, EN_CLAUSES, "I grew up in ", ", ", "I speak fluent ", ".")
LANGUAGES = (ZH, EN)
TRAIN_CLAUSES = range(0, 5)
HELD_OUT_CLAUSES = range(1, 7)


def held_out_combination(lang: Language, clause_ids: list[int]) -> bool:
    """About one combination in five (a set of clauses, in any order) is reserved for evaluation."""
    key = f"{lang.code}:" + ",".join(map(str, sorted(clause_ids)))
    return len(clause_ids) > 0 and zlib.crc32(key.encode()) % 5 == 0


def _generate(rng: np.random.Generator, held_out: bool) -> str:
    lang = LANGUAGES[int(rng.integers(2))]
    places = list(lang.places)
    place = places[int(rng.integers(len(places)))]
    counts = HELD_OUT_CLAUSES if held_out else TRAIN_CLAUSES
    k = int(rng.integers(counts.start, counts.stop))
    while True:
        ids = [int(j) for j in rng.permutation(len(lang.clauses))[:k]]
        reserved = held_out_combination(lang, ids)
        longer = lang.gap(sum(len(lang.clauses[j]) for j in ids), k) > lang.max_train_gap
        if (not held_out and not reserved) or (held_out and (longer if k > 4 else reserved)):
            return lang.sentence(place, ids)


def parse(s: str) -> tuple[Language, str, int, int]:
    """(language, place, number of clauses, blank position t) of a generated sentence."""
    lang = ZH if s.startswith(ZH.opening) else EN
    t = s.rindex(lang.closing) + len(lang.closing) - 1
    place = s[len(lang.opening) : s.index(lang.sep)]
    return lang, place, s[: t + 1].count(lang.sep) - 1, t


def _scored_blank(s: str) -> list[int]:
    return [parse(s)[3]]


def _report(model: Model, n: int, seed: int = HELD_OUT_SEED) -> dict:
    """Held-out accuracy of the first character of the language, overall, per language and per number
    of clauses, and of the whole language word (every character of it predicted right, given the ones before)."""
    tok = HOMETOWN.check_model(model)
    right: dict[tuple[str, int], list[bool]] = defaultdict(list)
    words = []
    examples = HOMETOWN.examples(n, seed, held_out=True)
    for s, probs in zip(examples, predictions(model, examples), strict=True):  # (T, V)
        lang, place, k, t = parse(s)
        right[lang.code, k].append(HOMETOWN.correct(s, t, probs[t], tok))
        words.append(all(HOMETOWN.correct(s, u, probs[u], tok) for u in range(t, t + len(lang.places[place]))))

    def frac(xs: list[bool]) -> float:
        return round(sum(xs) / len(xs), 4)

    out = {"accuracy": frac([x for v in right.values() for x in v]), "word_accuracy": frac(words)}
    for lang in LANGUAGES:
        out[f"accuracy_{lang.code}"] = frac([x for (c, _), v in right.items() if c == lang.code for x in v])
    for lang in LANGUAGES:
        out[f"accuracy_{lang.code}_by_clauses"] = {k: frac(right[lang.code, k]) for k in HELD_OUT_CLAUSES}
    return out


def gap_of(s: str) -> int:
    """Characters from the place's last character to the blank (the memory a sentence asks for)."""
    lang, place, _, t = parse(s)
    return t - (len(lang.opening) + len(place) - 1)


def split_section(metrics: dict, n: int, seed: int = HELD_OUT_SEED) -> str:
    """The card's account of the held-out split, with the accuracy per language and gap length."""
    gaps: dict[tuple[str, int], list[int]] = defaultdict(list)
    for s in HOMETOWN.examples(n, seed, held_out=True):
        lang, _, k, _ = parse(s)
        gaps[lang.code, k].append(gap_of(s))
    lines = [
        "## Held-out split",
        "Training examples have 0 to 4 clauses and never a reserved combination of clauses (a set of clauses, "
        "in any order; about one in five, chosen by a CRC of the sorted clause ids: `held_out_combination`). "
        "Held-out examples have 1 to 4 clauses only in reserved combinations, and 5 or 6 clauses only with a "
        "gap longer than any training gap of that language (the gap: characters from the place's last "
        f"character to the blank; the longest training gap is {ZH.max_train_gap} in Chinese and "
        f"{EN.max_train_gap} in English). Chinese and English come in equal numbers, {len(ZH.places)} places "
        f"and {len(ZH.clauses)} clauses each. The accuracy is that of the first character of the language at "
        f"the blank, on the card's {n:,} held-out examples:",
        "",
        "| language | clauses | gap (characters) | examples | accuracy |",
        "|---|---|---|---|---|",
    ]
    for lang in LANGUAGES:
        for k in HELD_OUT_CLAUSES:
            g = gaps[lang.code, k]
            longer = " (longer than training)" if min(g) > lang.max_train_gap else ""
            acc = metrics[f"accuracy_{lang.code}_by_clauses"]
            lines.append(f"| {lang.code} | {k} | {min(g)}-{max(g)}{longer} | {len(g)} | "
                         f"{acc.get(k, acc.get(str(k))):.2%} |")
    return "\n".join(lines) + "\n"


ALPHABET = "".join(sorted({ch for lang in LANGUAGES for text in (
    lang.opening, lang.sep, lang.closing, lang.end, *lang.places, *lang.places.values(), *lang.clauses)
    for ch in text}))

HOMETOWN = Task(
    "hometown", "我来自内蒙古，…，我能讲一口流利的蒙古语。 / I grew up in France, …, I speak fluent French: "
    "carry the place across 0 to 6 clauses to the language", ALPHABET, _generate, _scored_blank, True,
    report=_report, eval_examples=4000, scored_weight=100.0)
