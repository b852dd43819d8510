"""GET /api/health, /api/models and /api/models/{id}."""
from __future__ import annotations


def test_health(api):
    assert api.get("/api/health").json() == {"status": "ok", "models": 4, "version": "0.1.0"}


def test_model_list_describes_each_model(api):
    models = {m["id"]: m for m in api.get("/api/models").json()["models"]}
    assert list(models) == ["bi-proj", "tiny-char", "vec", "words"]
    t = models["tiny-char"]
    V = t["vocab_size"]
    assert t == {
        "id": "tiny-char", "name": "Tiny char", "description": "random weights", "tokenizer": "char",
        "input": "onehot", "layers": 2, "directions": 1, "hidden_size": 8, "output_size": 8, "proj_size": 0,
        "input_size": V, "vocab_size": V, "causal": True, "reverse": False, "metrics": {"loss": 1.0},
        "source": {"trained_on": "nothing"}, "verification": None,
        "head": {"kind": "next_token", "size": V, "labels": None, "pool": None, "activation": "softmax"},
        "specials": {"unk": "<unk>", "pad": None, "bos": None, "eos": None}, "can_wrap": False, "history": 0,
        "examples": [], "opening": {},
        # two layers of 4H x (in + H) weights and two biases, plus the decoder
        "parameters": 32 * (V + 8) + 64 + 32 * 16 + 64 + V * 8 + V,
    }
    b = models["bi-proj"]
    assert (b["directions"], b["proj_size"], b["output_size"], b["causal"], b["input"]) == (2, 3, 3, False, "embedding")
    assert models["vec"]["tokenizer"] is None and models["vec"]["vocab_size"] is None
    assert models["vec"]["head"] is None and models["vec"]["specials"] is None
    assert models["words"]["tokenizer"] == "word"


def test_model_detail_adds_vocabulary_and_card(api):
    d = api.get("/api/models/tiny-char").json()
    assert d["vocab"][0] == "<unk>" and d["unk"] == "<unk>" and len(d["vocab"]) == d["vocab_size"]
    assert d["card"] == "# Tiny\n"
    v = api.get("/api/models/vec").json()
    assert v["vocab"] is None and v["unk"] is None and v["card"] == ""


def test_openapi_documents_the_bodies(api):
    spec = api.get("/openapi.json").json()
    assert {"/api/health", "/api/models", "/api/models/{model_id}", "/api/trace", "/api/step"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert {"TraceRequest", "TraceResponse", "CompactArray", "StepResponse", "ModelInfo", "Error"} <= set(schemas)
    assert "/" not in spec["paths"] and "/vendor/plotly.min.js" not in spec["paths"]
    # No Swagger UI: FastAPI would load it from a CDN.
    assert api.get("/docs").status_code == 404 and api.get("/redoc").status_code == 404


def test_a_reverse_only_model_is_reported_and_traced_right_to_left(tmp_path):
    """ONNX direction="reverse": the picker must say backward, and no prefix state may be reused."""
    import warnings

    import numpy as np

    from app.main import create_app
    from app.settings import Settings, get_settings
    from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    tok = Tokenizer.build("abcdef ", unk=True)
    model = Model(LSTM.random(LSTMConfig(len(tok), 4, reverse=True), seed=3), "onehot", tok)
    save_model(model, tmp_path / "rev.safetensors")
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=tmp_path)
    with TestClient(app) as c:
        info = c.get("/api/models/rev").json()
        assert (info["reverse"], info["causal"], info["directions"]) == (True, False, 1)
        for text in ("abc", "abcd"):  # the second must not start from the first's state
            r = c.post("/api/trace", json={"model": "rev", "text": text, "format": "json"}).json()
            want = model.trace_text(text).trace
            assert r["cached_prefix"] == 0
            np.testing.assert_array_equal(np.asarray(r["c"], np.float32), want.c)
