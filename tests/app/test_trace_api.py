"""POST /api/trace through the TestClient and over real HTTP: every value equals lstm_core's trace."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import load_model
from tests.app.wire import decode

GATES = ("i", "f", "g", "o", "c", "h")


def reference(model_dir, model_id: str, text: str):
    """A full recompute by the core, from the file, with no cache involved."""
    model = load_model(model_dir / f"{model_id}.safetensors")
    return model, model.trace_text(text)


def assert_values_equal(body: dict, trace, layers=None) -> None:
    layers = list(range(trace.i.shape[0])) if layers is None else layers
    for k in GATES:
        want = trace.gate(k)[layers].astype(np.float64)
        got, err = decode(body[k])
        assert got.shape == want.shape, k
        if body["encoding"] == "json":
            np.testing.assert_array_equal(got, want, err_msg=k)  # float32 -> float, exactly
        else:
            # The bound is scale/2; the 1e-12 covers float64 rounding of offset + q * scale.
            assert np.abs(got - want).max() <= err + 1e-12, k
            if k in ("i", "f", "o"):
                assert body[k]["offset"] == 0 and body[k]["scale"] == 1 / 65535


@pytest.mark.parametrize("fmt", ["json", "compact"])
@pytest.mark.parametrize("model_id, text", [
    ("tiny-char", "the lazy fox."),
    ("bi-proj", "a [b] {c}"),
    ("words", "the quick brown dog jumps"),
])
def test_every_value_equals_the_core_trace(api, model_dir, fmt, model_id, text):
    r = api.post("/api/trace", json={"model": model_id, "text": text, "format": fmt})
    assert r.status_code == 200, r.text
    body = r.json()
    model, tt = reference(model_dir, model_id, text)
    assert body["encoding"] == fmt and body["model"] == model_id
    assert body["tokens"] == tt.tokens and body["ids"] == tt.ids.tolist()
    assert body["spans"] == [list(s) for s in tt.spans]
    cfg = model.lstm.config
    assert (body["steps"], body["directions"], body["hidden_size"], body["output_size"]) == \
        (len(tt.tokens), cfg.num_directions, cfg.hidden_size, cfg.output_size)
    assert body["layers"] == list(range(cfg.num_layers))
    assert_values_equal(body, tt.trace)


def test_top_k_and_next_token_probabilities(api, model_dir):
    text = "zoe fox"  # a start no other test types: the session's prefix cache must not answer from a longer run
    body = api.post("/api/trace", json={"model": "tiny-char", "text": text, "top_k": 3, "format": "json"}).json()
    model, tt = reference(model_dir, "tiny-char", text)
    vocab = model.tokenizer.vocab
    for t, row in enumerate(tt.probs):
        # Independent ranking: sort (-p, id) pairs in Python.
        best = sorted(range(len(row)), key=lambda j: (-float(row[j]), j))[:3]
        assert body["top_k"]["ids"][t] == best
        assert body["top_k"]["tokens"][t] == [vocab[j] for j in best]
        assert body["top_k"]["probs"][t] == [float(row[j]) for j in best]
    assert body["next_prob"][0] is None
    assert body["next_prob"][1:] == [float(tt.probs[t - 1, tt.ids[t]]) for t in range(1, len(text))]


def test_out_of_vocabulary_characters_are_kept_and_flagged(api, model_dir):
    text = "the 我来 fox我"
    body = api.post("/api/trace", json={"model": "tiny-char", "text": text}).json()
    assert body["tokens"] == list(text)
    assert body["oov"] == [4, 5, 10]
    assert body["oov_chars"] == ["我", "来"]
    assert [body["next_prob"][t] for t in body["oov"]] == [None, None, None]
    _, tt = reference(model_dir, "tiny-char", text)
    assert_values_equal(body, tt.trace)


def test_layer_selection_and_no_top_k(api, model_dir):
    body = api.post("/api/trace", json={"model": "bi-proj", "text": "abc", "layers": [1], "top_k": 0,
                                        "format": "json"}).json()
    assert body["layers"] == [1] and body["top_k"] is None
    _, tt = reference(model_dir, "bi-proj", "abc")
    assert_values_equal(body, tt.trace, layers=[1])


def test_vector_model_takes_vectors(api, model_dir):
    x = [[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]]
    body = api.post("/api/trace", json={"model": "vec", "vectors": x, "format": "json"}).json()
    model = load_model(model_dir / "vec.safetensors")
    tr, probs = model.trace_vectors(np.array(x))
    assert body["steps"] == 2 and probs is None and body["top_k"] is None
    assert_values_equal(body, tr)


def test_typing_reuses_the_prefix_and_still_equals_a_full_recompute(api, model_dir):
    """Keystrokes, an edit in the middle and a backspace: cached_prefix grows, values stay exact."""
    texts = ["zoe qu", "zoe qui", "zoe quick", "zoe quack", "zoe qua"]  # a start no other test types
    seen = []
    for text in texts:
        body = api.post("/api/trace", json={"model": "tiny-char", "text": text, "format": "json"}).json()
        _, tt = reference(model_dir, "tiny-char", text)
        assert_values_equal(body, tt.trace)
        np.testing.assert_allclose(body["next_prob"][1:], [tt.probs[t - 1, tt.ids[t]] for t in range(1, len(text))],
                                   rtol=1e-6)
        seen.append(body["cached_prefix"])
    # "the qu" may already be cached by an earlier test; the rest must reuse what came before.
    assert seen[1:] == [6, 7, 6, 7]


def test_bidirectional_models_never_reuse_a_prefix(api):
    api.post("/api/trace", json={"model": "bi-proj", "text": "abc"})
    assert api.post("/api/trace", json={"model": "bi-proj", "text": "abcd"}).json()["cached_prefix"] == 0


def test_large_responses_are_gzipped(api):
    r = api.post("/api/trace", json={"model": "tiny-char", "text": "the quick brown fox " * 2},
                 headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.json()["steps"] == 40


def test_repeated_requests_are_answered_alike_with_and_without_gzip(api, model_dir):
    req = {"model": "tiny-char", "text": "the lazy dog jumps over the fox", "format": "json"}
    first = api.post("/api/trace", json=req, headers={"Accept-Encoding": "gzip"})
    again = api.post("/api/trace", json=req, headers={"Accept-Encoding": "gzip"})
    plain = api.post("/api/trace", json=req, headers={"Accept-Encoding": "identity"})
    assert first.headers["content-encoding"] == again.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert first.content == again.content  # the client undoes the gzip
    a, b = first.json(), plain.json()
    assert b.pop("cached_prefix") == 31 and a.pop("cached_prefix") < 31  # the trace itself was cached
    assert a == b
    _, tt = reference(model_dir, "tiny-char", req["text"])
    assert_values_equal(plain.json(), tt.trace)
    other = api.post("/api/trace", json={**req, "layers": [1]}).json()
    assert other["layers"] == [1] and len(other["i"]) == 1  # options are part of the cache key


@pytest.mark.parametrize("fmt", ["json", "compact"])
def test_answers_match_the_documented_schema(client, fmt):
    """The trace answer bypasses FastAPI's validation for speed, so check it against TraceResponse here."""
    from app.schemas import StepResponse, TraceResponse

    body = client.post("/api/trace", json={"model": "bi-proj", "text": "a [b", "format": fmt}).json()
    TraceResponse.model_validate(body, strict=False)
    assert set(body) == set(TraceResponse.model_fields)
    step = client.post("/api/step", json={"model": "bi-proj", "text": "a [b", "t": 1}).json()
    assert set(step) == set(StepResponse.model_fields)
