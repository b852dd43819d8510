"""Request and response bodies of the training API (/api/train); part of /openapi.json."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.jobs.presets import MAX_PROBE

State = Literal["starting", "running", "stopped", "done", "failed"]


class TrainRequest(BaseModel):
    task: str = Field(description="counting (or counter), brackets, remember, hometown, or text for `text`",
                      examples=["counting"])
    text: str | None = Field(None, description="with task=text: the text to learn (UTF-8, up to the server's limit)")
    layers: int | None = Field(None, ge=1, description="LSTM layers (default: the task's)")
    hidden: int | None = Field(None, ge=1, description="units per layer (default: the task's)")
    steps: int | None = Field(None, ge=1, description="training steps (default: the task's)")
    lr: float | None = Field(None, gt=0, le=1, description="learning rate, Adam (default: the task's)")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="the same seed trains the same weights")
    probe: str | None = Field(None, min_length=1, max_length=MAX_PROBE,
                              description="the sentence whose gates are traced at every snapshot (default: the task's)")
    name: str | None = Field(None, max_length=80, description="a label for the run (never a path)")


class KeepRequest(BaseModel):
    name: str = Field(..., min_length=1, max_length=80, description="the name the model is listed under (a label)")


class TrainStatus(BaseModel):
    id: str
    name: str
    task: str
    config: dict = Field(description="layers, hidden, steps, lr, seed, batch and the task's other settings")
    probe: str
    state: State
    step: int
    steps: int
    loss: float | None
    accuracy: float | None = Field(description="held-out accuracy at the last snapshot (tasks)")
    metrics: dict = Field(description="the last snapshot's held-out metrics (and at the end, the run's)")
    tok_s: float | None = Field(description="training tokens a second, over the last fraction of a second")
    elapsed: float = Field(description="seconds since the job was created, until it ended")
    cpu: float | None = Field(description="CPU seconds of the training process (of its latest run, if resumed)")
    detail: str | None = Field(description="why it failed, a sentence in the request's language")
    command: str = Field(description="the command line that reproduces this run's weights, bit for bit")
    models: list[str] = Field(description="ids of the models kept from this job")
    events: str = Field(description="URL of the Server-Sent Events stream")


class TrainTask(BaseModel):
    name: str
    description: str
    defaults: dict
    probe: str


class TrainOptions(BaseModel):
    enabled: bool
    tasks: list[TrainTask]
    limits: dict = Field(description="max layers, hidden, steps, parameters, text bytes, seconds, jobs")
