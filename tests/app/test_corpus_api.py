"""The corpus routes over the TestClient, against a plain full trace of the corpus recomputed with NumPy.

The index is built with one window over the whole corpus and no warm-up, so each stored value is the
float16 of one ordinary trace of the text from a zero state: the reference needs no index code.
"""
from __future__ import annotations

import json
import math
import shutil
import warnings

import numpy as np
import pytest

from app.i18n import translate
from lstm_core import LSTM, Model, save_model
from lstm_core.corpus import CorpusIndex, IndexSettings, build_index, run_census
from tests.lstm_core.corpus_fixtures import python_like, tiny_model

N_CHARS = 3000
SETTINGS = IndexSettings(window=4096, warmup=0, tokens_chunk=4096, units_chunk=4, batch=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Models tc (indexed, with a census), other (its directory holds tc's index) and plain (no index)."""
    root = tmp_path_factory.mktemp("corpus-api")
    models, indexes = root / "models", root / "indexes"
    models.mkdir()
    small = tiny_model(seed=3, hidden=8)
    # Weights 4x the fixture's, so that gates saturate (the saturation answer must count something).
    tc = Model(LSTM(small.lstm.config, {k: 4 * v for k, v in small.lstm.params.items()}), "onehot", small.tokenizer,
               meta={"name": "tc"})
    save_model(tc, models / "tc.safetensors")
    save_model(tiny_model(seed=5), models / "other.safetensors")
    save_model(tiny_model(seed=6), models / "plain.safetensors")
    text = python_like(N_CHARS, seed=2)
    build_index(models / "tc.safetensors", None, indexes / "tc", SETTINGS, text=text, corpus_name="code",
                workers=1, progress=False)
    census = run_census(CorpusIndex.open(indexes / "tc")).to_json()
    (indexes / "tc" / "census.json").write_text(json.dumps(census), encoding="utf-8")
    shutil.copytree(indexes / "tc", indexes / "other")
    ids = tc.encode(text).ids
    tr, _ = tc.trace_ids(ids)
    return {"models": models, "indexes": indexes, "text": text, "model": tc, "trace": tr, "census": census}


@pytest.fixture()
def api(world):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings, get_settings

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=world["models"], index_dir=world["indexes"],
                                                              max_tokens=500)
    with TestClient(app) as c:
        yield c


def column(world, q: str, layer: int, unit: int) -> np.ndarray:
    """(N,) float64: the float16 rounding of one unit's values in the plain trace, as the index stores them."""
    return world["trace"].gate(q)[layer, 0, :, unit].astype(np.float16).astype(np.float64)


def test_info_says_what_the_index_holds_and_null_without_one(api, world):
    r = api.get("/api/corpus/tc").json()
    assert r["index"]["tokens"] == len(world["text"]) and r["census"] is True
    assert r["index"]["quantities"] == list("ifgoch") and r["index"]["units"]["c"] == 8
    assert api.get("/api/corpus/plain").json() == {"model": "plain", "index": None, "census": False}


@pytest.mark.parametrize(("q", "layer", "unit"), [("c", 1, 2), ("f", 0, 0), ("h", 0, 5), ("g", 1, 7)])
def test_unit_view_equals_a_numpy_recomputation(api, world, q, layer, unit):
    k, bins = 7, 20
    r = api.get("/api/corpus/tc/unit", params={"quantity": q, "layer": layer, "unit": unit, "k": k, "bins": bins})
    assert r.status_code == 200, r.text
    body, v = r.json(), column(world, q, layer, unit)
    pos = np.arange(len(v))
    top, bottom = np.lexsort((pos, -v))[:k], np.lexsort((pos, v))[:k]
    assert [c["token"] for c in body["top"]] == top.tolist()
    assert [c["token"] for c in body["bottom"]] == bottom.tolist()
    assert [c["value"] for c in body["top"]] == v[top].tolist()
    rng = (0.0, 1.0) if q in "ifo" else (v.min(), v.max())
    counts, edges = np.histogram(v, bins=bins, range=rng)
    assert body["histogram"]["counts"] == counts.tolist()
    np.testing.assert_allclose(body["histogram"]["edges"], edges, rtol=1e-6)
    lo, hi = body["limits"]
    assert body["saturation"] == pytest.approx([np.mean(v < lo), np.mean(v > hi)], abs=1e-12)
    assert body["mean"] == pytest.approx(v.mean(), rel=1e-5) and body["tokens"] == len(v)
    for c in body["top"][:3] + body["bottom"][:3]:
        s = c["snippet"]
        a, b = s["highlight"]
        assert s["text"][a:b] == world["text"][c["token"]]  # a character model: one token, one character
        assert s["values"][a] == pytest.approx(c["value"])


def test_open_gives_the_text_whose_trace_has_the_stored_value(api, world):
    # One window of 3,000 tokens, the explorer takes 500: a token past 500 cannot be shown exactly.
    for token, exact in ((0, True), (499, True), (1234, False), (len(world["text"]) - 1, False)):
        r = api.get("/api/corpus/tc/open", params={"token": token}).json()
        ids = world["model"].encode(r["text"]).ids
        assert len(ids) <= 500 and r["exact"] is exact and r["text"][r["t"]] == world["text"][token]
        assert r["text"] == world["text"][r["tokens"][0]:r["tokens"][1]]
        if exact:
            tr, _ = world["model"].trace_ids(ids)
            assert tr.gate("c")[1, 0, r["t"], 3] == pytest.approx(column(world, "c", 1, 3)[token], abs=1e-2)
    bad = api.get("/api/corpus/tc/open", params={"token": 10**7})
    assert bad.status_code == 422 and bad.json()["code"] == "bad_token"


def _on(values: np.ndarray, threshold: float) -> np.ndarray:
    return values.astype(np.float16).astype(np.float64) >= threshold  # (T, H) as the index compares


@pytest.mark.parametrize(("q", "layer", "threshold"), [("h", 0, 0.1), ("c", 0, 0.2), ("h", 1, 0.3)])
def test_pattern_search_matches_brute_force(api, world, q, layer, threshold):
    text = world["text"][:300]
    on_text = _on(world["model"].trace_text(text).trace.gate(q)[layer, 0], threshold)  # (T, H)
    spans = [(s, s + n) for n in (2, 3, 1) for s in range(1, 290)]
    t0, t1 = max(spans, key=lambda se: (on_text[se[0]:se[1]].all(0) & ~on_text[se[0] - 1] & ~on_text[se[1]]).sum())
    want = np.flatnonzero(on_text[t0:t1].all(0) & ~on_text[t0 - 1] & ~on_text[t1])
    r = api.post("/api/corpus/tc/patterns", json={"text": text, "start": t0, "end": t1, "threshold": threshold,
                                                  "quantity": q, "layer": layer, "limit": 200, "min_overlap": 0.5})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pattern"]["units"] == want.tolist() and body["tokens"] == len(world["text"])
    on = _on(world["trace"].gate(q)[layer, 0], threshold)  # (N, H) over the whole corpus
    N, p = len(on), len(want)
    for m in body["matches"]:
        a, b = m["start"], m["end"]
        around = on[a:b].all(0) & ~(on[a - 1] if a > 0 else False) & ~(on[b] if b < N else False)
        assert m["overlap"] == around[want].sum() and m["extra"] == around.sum() - around[want].sum()
        assert on[a:b][:, want].sum(1).min() >= math.ceil(0.5 * p)  # a run of the candidate level
        assert m["length_diff"] == abs(b - a - (t1 - t0))
    keys = [(-m["overlap"], m["extra"], m["length_diff"], m["start"]) for m in body["matches"]]
    assert keys == sorted(keys)
    assert {"start": t0, "end": t1, "overlap": p, "extra": 0, "length_diff": 0} in [
        {k: m[k] for k in ("start", "end", "overlap", "extra", "length_diff")} for m in body["matches"]]


def test_corpus_saturation_equals_counting(api, world):
    body = api.get("/api/corpus/tc/saturation").json()
    assert set(body["gates"]) == {"f", "i", "o"}
    seen = 0.0
    for q in "fio":
        g = world["trace"].gate(q).astype(np.float16).astype(np.float64)  # (L, D, T, H)
        np.testing.assert_allclose(body["gates"][q]["high"], (g > 0.9).mean(axis=2), atol=1e-12)
        np.testing.assert_allclose(body["gates"][q]["low"], (g < 0.1).mean(axis=2), atol=1e-12)
        seen += (g > 0.9).mean() + (g < 0.1).mean()
    assert seen > 0.01  # the comparison saw saturated gates


def test_census_and_a_regex_probe(api, world):
    assert api.get("/api/corpus/tc/census").json() == world["census"]
    r = api.post("/api/corpus/tc/probe", json={"regex": r"#[^\n]*"})
    assert r.status_code == 200, r.text
    best = r.json()["best"][0]
    codes = np.frombuffer(world["text"].encode("utf-32-le"), "<u4")
    inside = np.zeros(len(codes), bool)
    import re
    for m in re.finditer(r"#[^\n]*", world["text"]):
        inside[m.start():m.end()] = True
    v = column(world, best["quantity"], best["layer"], best["unit"])
    pos, neg = v[inside], v[~inside]
    auc = ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))
    assert best["auc"] == pytest.approx(auc, abs=1e-9)


@pytest.mark.parametrize(("method", "path", "body", "status", "code", "key"), [
    ("post", "/api/corpus/tc/probe", {"regex": "(unclosed"}, 422, "model_error", "core.regex_bad"),
    ("post", "/api/corpus/tc/probe", {"regex": "QQQ never"}, 422, "model_error", "core.regex_nothing"),
    ("get", "/api/corpus/tc/unit?quantity=c&layer=5", None, 422, "bad_unit", "core.index_layer"),
    ("get", "/api/corpus/tc/unit?quantity=c&unit=99", None, 422, "bad_unit", "core.index_unit"),
    ("get", "/api/corpus/other/unit", None, 409, "index_mismatch", "error.index_mismatch"),
    ("get", "/api/corpus/plain/unit", None, 404, "no_index", "error.no_index"),
    ("get", "/api/corpus/plain/census", None, 404, "no_index", "error.no_index"),
    ("post", "/api/corpus/tc/patterns", {"text": "def f(a):\n", "start": 2, "end": 4, "threshold": 50}, 422,
     "model_error", "core.pattern_empty"),
    ("post", "/api/corpus/tc/patterns", {"text": "def f(a):\n", "start": 4, "end": 40}, 422, "model_error",
     "core.pattern_span"),
])
def test_bad_requests_get_a_sentence_in_the_readers_language(api, method, path, body, status, code, key):
    for lang in ("en", "zh-CN"):
        r = getattr(api, method)(path, headers={"Accept-Language": lang}, **({"json": body} if body else {}))
        assert r.status_code == status and r.json()["code"] == code, r.text
        head = translate(lang, key).split("{")[0]
        assert r.json()["detail"].startswith(head[:8]), (r.json()["detail"], head)


def test_the_unit_command_prints_the_same_unit_view(world, capsys):
    from app.commands import main

    v = column(world, "c", 1, 2)
    top = np.lexsort((np.arange(len(v)), -v))[:3]
    args = ["unit", str(world["indexes"] / "tc"), "-q", "c", "-l", "1", "-u", "2", "-k", "3", "--colour", "never"]
    assert main([*args, "--json"]) == 0
    assert [c["token"] for c in json.loads(capsys.readouterr().out)["top"]] == top.tolist()
    assert main(args) == 0
    out = capsys.readouterr().out
    marked = [line.split("⟦")[1][0] for line in out.splitlines() if "⟦" in line and "token in" not in line][:3]
    assert marked == [world["text"][k].replace("\n", "⏎") for k in top]
    assert main([*args, "--model", str(world["models"] / "other.safetensors")]) == 2
    assert "not by other.safetensors" in capsys.readouterr().err


@pytest.fixture(scope="module")
def live(world):
    """The same models and indexes behind a real server (uvicorn over a socket), request bodies capped at 64 KiB."""
    import httpx

    from app.testing import start_server, stop_server

    base, proc = start_server(world["models"], env={"GATESCOPE_INDEX_DIR": str(world["indexes"]),
                                                    "GATESCOPE_MAX_BODY_BYTES": str(64 << 10)})
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            yield c
    finally:
        stop_server(proc)


def _auc(v: np.ndarray, y: np.ndarray) -> float:
    """The pairwise definition: P(a positive token's value > a negative one's), ties half."""
    pos, neg = v[y], v[~y]
    return ((pos[:, None] > neg[None]).sum() + 0.5 * (pos[:, None] == neg[None]).sum()) / (len(pos) * len(neg))


def test_an_uploaded_label_file_ranks_every_unit_as_numpy_does(live, world):
    text = world["text"]
    assert len(text) == len(world["model"].encode(text).ids)  # a character model: token k is character k
    # A binary feature of my own: "inside brackets ( [ {", derived character by character here.
    depth, inside = 0, []
    for ch in text:
        depth += ch in "([{"
        inside.append(depth > 0)
        depth -= ch in ")]}" and depth > 0
    y = np.array(inside)
    body = "\n".join(str(int(b)) for b in y).encode()
    r = live.post("/api/corpus/tc/probe/labels?filename=brackets.txt&top=3", content=body,
                  headers={"content-type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["feature"] == "brackets" and got["binary"] and got["mean"] == pytest.approx(y.mean())
    scores = {(q, layer, u): abs(2 * _auc(column(world, q, layer, u), y) - 1)
              for q in "ch" for layer in range(2) for u in range(8)}
    ranked = sorted(scores, key=lambda k: -scores[k])[:3]
    assert [(b["quantity"], b["layer"], b["unit"]) for b in got["best"]] == ranked
    for b in got["best"]:
        assert b["auc"] == pytest.approx(_auc(column(world, b["quantity"], b["layer"], b["unit"]), y), abs=1e-9)
    # A numeric feature as .npy (the position in the line): ranked by Pearson r.
    line_pos = np.array([k - (text.rfind("\n", 0, k + 1) + 1) if text[k] != "\n" else 0 for k in range(len(text))],
                        np.float32)
    import io

    buf = io.BytesIO()
    np.save(buf, line_pos)
    r = live.post("/api/corpus/tc/probe/labels?filename=pos.npy", content=buf.getvalue())
    assert r.status_code == 200, r.text
    best = r.json()["best"][0]
    assert not r.json()["binary"] and best["auc"] is None
    want = np.corrcoef(column(world, best["quantity"], best["layer"], best["unit"]), line_pos)[0, 1]
    assert best["r"] == pytest.approx(want, abs=1e-6)
    assert best["score"] == pytest.approx(max(abs(np.corrcoef(column(world, q, layer, u), line_pos)[0, 1])
                                              for q in "ch" for layer in range(2) for u in range(8)), abs=1e-6)


@pytest.mark.parametrize(("body", "status", "code", "key"), [
    (b"1\n0\n1\n", 422, "bad_labels", "core.labels_length"),
    (b"yes no " * 1500, 422, "bad_labels", "core.labels_unreadable"),
    (b"0\n" * (N_CHARS - 1) + b"inf\n", 422, "bad_labels", "core.labels_nonfinite"),
    (b"0\n" * 40_000, 413, "body_too_large", "error.body_too_large"),
], ids=["wrong-length", "not-numbers", "infinite", "too-big"])
def test_a_bad_label_file_gets_a_sentence_in_the_readers_language(live, body, status, code, key):
    for lang in ("en", "zh-CN"):
        r = live.post("/api/corpus/tc/probe/labels?filename=mine.txt", content=body,
                      headers={"Accept-Language": lang})
        assert r.status_code == status and r.json()["code"] == code, r.text
        head = translate(lang, key).split("{")[0]
        assert r.json()["detail"].startswith(head[:8]), (r.json()["detail"], head)
    assert live.get("/api/corpus/tc").status_code == 200  # and the server keeps serving


def test_the_label_upload_is_documented(api):
    op = api.get("/openapi.json").json()["paths"]["/api/corpus/{model_id}/probe/labels"]["post"]
    assert {"application/octet-stream", "text/plain"} <= set(op["requestBody"]["content"])
    assert {"413", "422"} <= set(op["responses"])
