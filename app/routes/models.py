"""GET /api/models and /api/models/{id}: what each model is, for the picker and the model card."""
from __future__ import annotations

from fastapi import APIRouter

from app.registry import Entry, RegistryDep, find
from app.schemas import Error, ModelDetail, ModelList

router = APIRouter(tags=["models"])


def model_info(entry: Entry) -> dict:
    """The ModelInfo fields of a registry entry."""
    m, cfg = entry.model, entry.model.lstm.config
    meta = m.meta
    source = meta.get("provenance") if isinstance(meta.get("provenance"), dict) else {}
    verification = meta.get("verification", source.get("verification"))
    return {
        "id": entry.id, "name": meta.get("name") or entry.id, "description": meta.get("description", ""),
        "tokenizer": m.tokenizer.kind if m.tokenizer is not None else None, "input": m.input_kind,
        "layers": cfg.num_layers, "directions": cfg.num_directions, "hidden_size": cfg.hidden_size,
        "output_size": cfg.output_size, "proj_size": cfg.proj_size, "input_size": cfg.input_size,
        "vocab_size": m.vocab_size, "parameters": m.num_parameters, "causal": m.is_causal, "reverse": cfg.reverse,
        "metrics": meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {},
        "source": source, "verification": verification if isinstance(verification, dict) else None,
    }


def model_detail(entry: Entry) -> dict:
    tok = entry.model.tokenizer
    return {**model_info(entry), "vocab": list(tok.vocab) if tok is not None else None,
            "unk": tok.unk if tok is not None else None, "card": entry.model.meta.get("card") or ""}


@router.get("/api/models", response_model=ModelList)
def list_models(registry: RegistryDep) -> dict:
    """Every model the server offers, sorted by id."""
    registry.refresh()
    return {"models": [model_info(e) for e in registry]}


@router.get("/api/models/{model_id}", response_model=ModelDetail, responses={404: {"model": Error}})
def get_model(model_id: str, registry: RegistryDep) -> dict:
    """One model with its vocabulary and model card."""
    return model_detail(find(registry, model_id))
