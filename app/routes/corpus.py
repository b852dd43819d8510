"""/api/corpus/{model}/...: which units matter, over the model's corpus index (python -m app index)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app import corpus, service
from app.cache import CacheDep
from app.corpus import IndexesDep
from app.registry import RegistryDep, find
from app.schemas import Error
from app.schemas_corpus import CorpusInfo, Opening, PatternAnswer, PatternRequest, ProbeRequest, Quantity, UnitAnswer
from app.serialize import answer
from app.settings import SettingsDep

router = APIRouter(prefix="/api/corpus/{model_id}", tags=["corpus"])
# Every status these answer with a sentence (400: a body that is not JSON), so /openapi.json documents them.
ERRORS = {400: {"model": Error}, 404: {"model": Error}, 409: {"model": Error}, 413: {"model": Error},
          422: {"model": Error}}
LABELS_BODY = {"requestBody": {"required": True, "description": "the label file's bytes, as the CLI's --labels reads "
                               "it: one number per token of the index separated by whitespace (UTF-8), or a .npy "
                               "array of shape (tokens,); 0/1 values make a binary feature (ranked by AUC), any "
                               "others a numeric one (Pearson r). At most max_body_bytes (413 beyond).",
                               "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                    "format": "binary"}},
                                           "text/plain": {"schema": {"type": "string"}}}}}


@router.get("", response_model=CorpusInfo, responses=ERRORS)
def info(model_id: str, registry: RegistryDep, indexes: IndexesDep) -> Response:
    """What the model's index holds (index null when it has none)."""
    return answer(corpus.info(find(registry, model_id), indexes))


@router.get("/unit", response_model=UnitAnswer, responses=ERRORS)
def unit(model_id: str, registry: RegistryDep, indexes: IndexesDep, quantity: Quantity = "c",
         layer: Annotated[int, Query(ge=0)] = 0, direction: Annotated[int, Query(ge=0)] = 0,
         unit: Annotated[int, Query(ge=0)] = 0, k: Annotated[int, Query(ge=1, le=100)] = 10,
         bins: Annotated[int, Query(ge=1, le=200)] = 50) -> Response:
    """One unit over the corpus: top and bottom contexts, activation histogram, saturation."""
    index = indexes.open(find(registry, model_id))
    return answer(corpus.unit(index, corpus.ref_of(index, quantity, layer, direction, unit), k, bins))


@router.get("/census", responses=ERRORS)
def census(model_id: str, registry: RegistryDep, indexes: IndexesDep) -> Response:
    """The census: for each built-in feature, the units that track it best (python -m app index --census)."""
    entry = find(registry, model_id)
    return answer(corpus.census(entry, indexes.open(entry)))


@router.post("/probe", responses=ERRORS)
def probe(model_id: str, req: ProbeRequest, registry: RegistryDep, indexes: IndexesDep) -> Response:
    """Every c and h unit ranked against a feature of your own: tokens inside matches of a regex."""
    return answer(corpus.probe(indexes.open(find(registry, model_id)), req.regex, req.top))


@router.post("/probe/labels", responses=ERRORS, openapi_extra=LABELS_BODY)
async def probe_labels(model_id: str, request: Request, registry: RegistryDep, indexes: IndexesDep,
                       filename: Annotated[str, Query(max_length=200)] = "labels.txt",
                       top: Annotated[int, Query(ge=1, le=50)] = 5) -> Response:
    """Every c and h unit ranked against your per-token label file (the body: one number per token, or .npy)."""
    data = await request.body()  # at most max_body_bytes: BodyLimit answers 413 beyond

    def ranked() -> dict:  # opening an index hashes the model file once: off the event loop
        return corpus.probe_labels(indexes.open(find(registry, model_id)), data, filename, top)

    return answer(await run_in_threadpool(ranked))


@router.post("/patterns", response_model=PatternAnswer, responses=ERRORS)
def patterns(model_id: str, req: PatternRequest, registry: RegistryDep, indexes: IndexesDep, cache: CacheDep,
             settings: SettingsDep) -> Response:
    """LSTMVis pattern search: a span of a text and a threshold; every matching span of the corpus, ranked."""
    entry = find(registry, model_id)
    index = indexes.open(entry)
    ref = corpus.ref_of(index, req.quantity, req.layer, req.direction, 0)
    # Only the gates are used, nothing of the trace is sent: the budget counts the trace alone.
    traced = service.trace(entry, req.text, None, cache, settings,
                           {"layers": None, "encoding": None, "gzip": False, "top_k": 0})
    return answer(corpus.patterns(index, traced.trace, ref, req.start, req.end, req.threshold, req.limit,
                                  req.min_overlap))


@router.get("/open", response_model=Opening, responses=ERRORS)
def opening(model_id: str, registry: RegistryDep, indexes: IndexesDep, settings: SettingsDep,
            token: Annotated[int, Query(ge=0)]) -> Response:
    """The text to trace in the explorer to see corpus token `token` with the values the index stored."""
    return answer(corpus.opening(indexes.open(find(registry, model_id)), token, settings.max_tokens))


@router.get("/saturation", responses=ERRORS)
def saturation(model_id: str, registry: RegistryDep, indexes: IndexesDep) -> Response:
    """Karpathy's saturation plot over the corpus: per gate, each unit's fractions below 0.1 and above 0.9."""
    return answer(corpus.saturation(indexes.open(find(registry, model_id))))
