"""The guided lessons: the model and sentence each starts on, and the unit it watches, found from data.

Every lesson walks the same seven steps (static/js/lesson.js): the example, the cell state, the forget
gate, the input gate and candidate, the cell update, the output gate, the prediction. What differs is
the model, the opening sentence, where the memory is written (`write`: "first", the first token, as in
remember; "largest", the step where the unit's |i * g| is largest on the current sentence; or "place", that
step among the tokens of the place, found in the current sentence between the opening and separator of one
of the lesson's languages, so that the hometown lesson shows the input gate at 内蒙古 whatever clauses are
typed after it), and how the unit is found:

- hometown: the place units its model card names (meta["units"]["place_units"], and per language in
  meta["units"]["by_language"], written by `python -m lstm_core.tasks.hometown_units`: ranked by how much of c
  at the blank the place explains, and checked by clamping);
- counter, brackets, remember: measured here on the model's own task (lstm_core.teaching.task_unit),
  so a retrained model gets a lesson about its own units.

A lesson may run on another model of its kind (`/api/lessons/{id}?model=`, e.g. one kept from the Train panel):
one whose file records that it was trained on the lesson's task, with that task's vocabulary. Anything else is
refused with a sentence, since the lesson's steps and unit would mean nothing on it.
"""
from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass

from pydantic import TypeAdapter

from app.errors import ApiError
from app.registry import Entry, JsonObject, Registry
from lstm_core.tasks import TASKS
from lstm_core.teaching import task_unit


@dataclass(frozen=True)
class Lesson:
    id: str
    model: str  # registry id of the model it runs on
    text: str  # the sentence it opens with
    write: str  # "first" | "largest" | "place": where the memory is written (see the module docstring)
    task: str | None  # the teaching task whose held-out examples find the unit; None: the model card names it
    kind: str  # the task (lstm_core.tasks) its models are trained on: another model runs it if trained on this
    # write="place": (language, opening, separator) around the place, one per language of the hometown task's
    # templates (lstm_core/tasks/hometown.py); a sentence with neither falls back to "largest".
    place: tuple[tuple[str, str, str], ...] = ()


LESSONS = {lesson.id: lesson for lesson in (
    Lesson("hometown", "hometown", "我来自内蒙古，我能讲一口流利的", "place", None, "hometown",
           (("zh", "我来自", "，"), ("en", "I grew up in ", ","))),
    Lesson("counter", "counter", "aaaaaXbbbbb", "largest", "counting", "counting"),
    Lesson("brackets", "brackets", "(()(())", "largest", "brackets", "brackets"),
    Lesson("remember", "remember", "Cabcdabcdaabbccddaabbcd?", "first", "remember", "remember"),
)}

_found: dict[tuple[str, str], tuple[int, dict]] = {}  # (lesson, model) -> (id of the model object, its units):
# a reload re-measures
_lock = threading.Lock()
_JSON = TypeAdapter(JsonObject)  # a card's free-form JSON as the registry cleans metadata (lone surrogates replaced)


def get(lesson_id: str) -> Lesson:
    """The lesson, or a 404 naming the lessons there are."""
    if lesson_id not in LESSONS:
        raise ApiError(404, "unknown_lesson", "error.unknown_lesson", lesson=repr(lesson_id),
                       lessons=", ".join(LESSONS))
    return LESSONS[lesson_id]


def _unit_list(v: object, hidden: int) -> list[int]:
    """The units a card's list names that this LSTM has: integers in [0, hidden), each once, in order. Anything
    else a file may hold there (strings, floats, negatives, lists, a non-list) is ignored."""
    if not isinstance(v, list):
        return []
    out: dict[int, None] = {}
    for u in v:
        if type(u) is int and 0 <= u < hidden:  # type() is: True is an int too, and no unit
            out[u] = None
            if len(out) == hidden:  # every unit named: the rest of a huge list can add nothing
                break
    return list(out)


def _number(v: object) -> float | None:
    return float(v) if type(v) in (int, float) and math.isfinite(v) else None


def _evidence(found: dict, hidden: int) -> dict | None:
    """The LessonEvidence fields from what `hometown_units` wrote (the whole card's or one language's), each
    field checked as a hostile file could hold anything; None when it names no unit this LSTM has."""
    units = _unit_list(found.get("place_units"), hidden)
    if not units:
        return None
    eta = found.get("eta2") if isinstance(found.get("eta2"), dict) else {}
    effects, examples = found.get("effects"), found.get("examples")
    return {"unit": units[0], "units": units, "measure": "eta2", "value": _number(eta.get(str(units[0]))),
            "others": _number(found.get("eta2_median_other")), "others_kind": "median",
            "examples": examples if type(examples) is int and examples >= 0 else None, "source": "card",
            "effects": _JSON.validate_python(effects) if isinstance(effects, dict) else None}


def trained_on(entry: Entry) -> str | None:
    """The task the model file records it was trained on (lstm_core.train's provenance), or None."""
    p = entry.model.meta.get("provenance")
    data = p.get("data") if isinstance(p, dict) else None
    task = data.get("task") if isinstance(data, dict) else None
    return task if isinstance(task, str) else None


def check_kind(lesson: Lesson, entry: Entry) -> None:
    """A 422 unless `entry` may run `lesson` in place of its own model: trained on its task, with its vocabulary."""
    tok = entry.model.tokenizer
    if entry.id == lesson.model:
        return
    if (trained_on(entry) != lesson.kind or tok is None or entry.model.decoder_weight is None
            or list(tok.vocab) != list(TASKS[lesson.kind].tokenizer.vocab)):
        raise ApiError(422, "lesson_wrong_model", "error.lesson_wrong_model", lesson=lesson.id, model=entry.id,
                       task=lesson.kind, own=lesson.model)


def _from_card(lesson: Lesson, entry: Entry) -> dict:
    found = entry.model.meta.get("units")
    hidden = entry.model.lstm.config.hidden_size
    if not isinstance(found, dict) or not found.get("place_units"):
        if entry.id != lesson.model and trained_on(entry) == lesson.kind:  # e.g. kept from the Train panel
            raise ApiError(422, "lesson_no_units", "error.lesson_units_unmeasured", model=entry.id)
        raise ApiError(422, "lesson_no_units", "error.lesson_no_units", model=entry.id)
    whole = _evidence(found, hidden)
    if whole is None:
        raise ApiError(422, "lesson_no_units", "error.lesson_bad_units", model=entry.id, last=hidden - 1)
    # A unit may hold the place of one language only (hometown's card ranks them per language): the page
    # watches the units of the language whose place it finds in the sentence.
    languages = found.get("by_language") if isinstance(found.get("by_language"), dict) else {}
    by_language = {code: ev for code, v in languages.items() if isinstance(v, dict) and (ev := _evidence(v, hidden))}
    return {**whole, "by_language": by_language or None}


def units(lesson: Lesson, entry: Entry) -> dict:
    """The unit the lesson watches on this model and the evidence (cached until the model object changes)."""
    with _lock:
        cached = _found.get((lesson.id, entry.id))
        if cached and cached[0] == id(entry.model):
            return cached[1]
    if lesson.task is None:
        out = _from_card(lesson, entry)
    else:
        f = task_unit(entry.model, lesson.task)
        out = {**asdict(f), "units": list(f.units), "others": f.runner_up, "others_kind": "best", "source": "measured",
               "effects": None, "by_language": None}
        del out["runner_up"]
    with _lock:
        _found[(lesson.id, entry.id)] = (id(entry.model), out)
    return out


def summary(lesson: Lesson, installed: bool) -> dict:
    """The LessonSummary fields (app.schemas)."""
    return {"id": lesson.id, "model": lesson.model, "task": lesson.kind, "text": lesson.text, "write": lesson.write,
            "place": [list(p) for p in lesson.place], "available": installed}


def listing(registry: Registry) -> dict:
    """The LessonList fields (GET /api/lessons, and the page shell's embedded copy): every lesson, and whether its
    model is installed here."""
    return {"lessons": [summary(x, registry.get(x.model) is not None) for x in LESSONS.values()]}


def describe(lesson: Lesson, entry: Entry | None) -> dict:
    """The LessonDetail fields on `entry` (its own model, or another of its kind: check_kind first), or a 404
    when the lesson's own model is not installed."""
    if entry is None:
        raise ApiError(404, "lesson_model_missing", "error.lesson_model_missing", lesson=lesson.id, model=lesson.model)
    return {**summary(lesson, True), **units(lesson, entry), "model": entry.id}
