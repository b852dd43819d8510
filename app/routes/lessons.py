"""GET /api/lessons and /api/lessons/{id}: the guided lessons and the unit each watches on its model."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app import lessons
from app.registry import RegistryDep, find
from app.schemas import Error, LessonDetail, LessonList

router = APIRouter(tags=["lessons"])


@router.get("/api/lessons", response_model=LessonList)
def list_lessons(registry: RegistryDep) -> dict:
    """Every lesson, and whether its model is installed here."""
    return lessons.listing(registry)


@router.get("/api/lessons/{lesson_id}", response_model=LessonDetail,
            responses={404: {"model": Error}, 422: {"model": Error}})
def get_lesson(lesson_id: str, registry: RegistryDep,
               model: Annotated[str | None, Query(max_length=200, description=(
                   "run it on this model instead of its own: one trained on the lesson's task (e.g. kept from "
                   "the Train panel); the unit is found on it"))] = None) -> dict:
    """One lesson with the unit it watches, found from its model (measured, or named by the model card)."""
    lesson = lessons.get(lesson_id)
    if not model:
        return lessons.describe(lesson, registry.get(lesson.model))
    entry = find(registry, model)
    lessons.check_kind(lesson, entry)
    return lessons.describe(lesson, entry)
