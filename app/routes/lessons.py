"""GET /api/lessons and /api/lessons/{id}: the guided lessons and the unit each watches on its model."""
from __future__ import annotations

from fastapi import APIRouter

from app import lessons
from app.registry import RegistryDep
from app.schemas import Error, LessonDetail, LessonList

router = APIRouter(tags=["lessons"])


@router.get("/api/lessons", response_model=LessonList)
def list_lessons(registry: RegistryDep) -> dict:
    """Every lesson, and whether its model is installed here."""
    return {"lessons": [lessons.summary(x, registry.get(x.model) is not None) for x in lessons.LESSONS.values()]}


@router.get("/api/lessons/{lesson_id}", response_model=LessonDetail,
            responses={404: {"model": Error}, 422: {"model": Error}})
def get_lesson(lesson_id: str, registry: RegistryDep) -> dict:
    """One lesson with the unit it watches, found from its model (measured, or named by the model card)."""
    lesson = lessons.get(lesson_id)
    return lessons.describe(lesson, registry.get(lesson.model))
