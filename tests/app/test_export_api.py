"""Downloads: CSV and .npz read back to the very values /api/trace answers; the JSON file is that answer; the
HTML snapshot embeds Plotly from the installed package, fetches nothing, and keeps user text inert."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.app.wire import decode

GATES = ("i", "f", "g", "o", "c", "h")
BODY = {"model": "tiny-char", "text": 'the "fox", (jumps)\nover', "top_k": 3}


def api_values(api, body: dict) -> dict:
    r = api.post("/api/trace", json={**body, "format": "json"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("body", [
    BODY,
    {"model": "bi-proj", "text": "a, [b]", "layers": [1]},  # two directions, h narrower than c (proj_size 3)
    {**BODY, "interventions": [{"layer": 1, "unit": 2, "quantity": "f", "value": 0, "positions": [3]}]},
])
def test_csv_round_trips_to_the_api_values(api, body):
    want = api_values(api, body)
    r = api.post("/api/export/csv", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert re.match(r'attachment; filename="gatescope-[\w.~-]+\.csv"', r.headers["content-disposition"])
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["layer", "direction", "t", "token", "unit", "quantity", "value"]
    got = {q: np.full(decode(want[q])[0].shape, np.nan) for q in GATES}
    layers = want["layers"]
    for layer, d, t, token, u, q, value in rows[1:]:
        assert token == want["tokens"][int(t)]  # quotes, commas and the newline survive
        v = float(value)
        assert np.float32(v) == v  # a float32, written exactly
        got[q][layers.index(int(layer)), int(d), int(t), int(u)] = v
    for q in GATES:
        np.testing.assert_array_equal(got[q], decode(want[q])[0], err_msg=q)  # every value, once, exactly
    assert len(rows) - 1 == sum(decode(want[q])[0].size for q in GATES)


@pytest.mark.parametrize("body", [BODY, {"model": "bi-proj", "text": "a, [b]"}, {"model": "words", "text": "the dog"}])
def test_npz_round_trips_to_the_api_values(api, body):
    want = api_values(api, body)
    r = api.post("/api/export/npz", json=body)
    assert r.status_code == 200
    z = np.load(io.BytesIO(r.content), allow_pickle=False)  # nothing in it needs unpickling
    for q in GATES:
        assert z[q].dtype == (np.float64 if body["model"] == "words" else np.float32)  # the model's own dtype
        np.testing.assert_array_equal(z[q].astype(np.float64), decode(want[q])[0], err_msg=q)
    assert z["tokens"].tolist() == want["tokens"] and z["ids"].tolist() == want["ids"]
    assert z["layers"].tolist() == want["layers"] and str(z["model"]) == body["model"]
    np.testing.assert_array_equal(z["next_prob"], [np.nan if p is None else p for p in want["next_prob"]])
    np.testing.assert_array_equal(z["top_k_probs"], want["top_k"]["probs"])
    assert z["top_k_ids"].tolist() == want["top_k"]["ids"] and json.loads(str(z["interventions"])) == []


def test_the_json_file_is_the_trace_answer(api):
    r = api.post("/api/export/json", json=BODY)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    got = r.json()
    want = api_values(api, BODY)
    got.pop("cached_prefix"), want.pop("cached_prefix")
    assert got == want


def test_exports_refuse_like_the_trace(api):
    r = api.post("/api/export/csv", json={"model": "nope", "text": "x"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = api.post("/api/export/npz", json={"model": "tiny-char", "text": ""})
    assert r.status_code == 422 and "empty" in r.json()["detail"]


HOSTILE = "</script><script>alert(1)//<img src=x onerror=1>&amp;"  # within the test server's 60 tokens


def test_the_html_snapshot_is_self_contained_and_keeps_text_inert(api):
    body = {"model": "tiny-char", "text": HOSTILE, "unit": 3, "t": 4, "layer": 1, "quantity": "f", "order": "variance",
            "compare": {"text": HOSTILE + "b"}}
    r = api.post("/api/export/html", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    import plotly

    js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text(encoding="utf-8")
    assert js[:2000] in page  # the installed package's own plotly.min.js, embedded
    outside = page.replace(js, "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", outside)  # nothing to fetch
    assert "cdn" not in outside.lower()
    assert "<script>alert(1)" not in outside and "<img src=x" not in outside
    assert "&lt;/script&gt;&lt;script&gt;" in outside  # the text block, escaped
    assert outside.count("Plotly.newPlot") == 7  # six views and the comparison


def test_the_snapshot_speaks_the_requests_language(api):
    from app.i18n import translate

    body = {"model": "tiny-char", "text": "the cat", "compare": {"text": "the dog"}}
    zh = api.post("/api/export/html", json=body, headers={"Accept-Language": "zh-CN"}).text
    en = api.post("/api/export/html", json=body).text
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    for key in ("figure.h_saturation", "figure.h_predictions", "figure.heading_texts", "figure.peak_title"):
        assert translate("zh-CN", key) in zh and translate("en", key) not in zh, key
        assert translate("en", key) in en, key
    assert translate("zh-CN", "snapshot.title", model="tiny-char") in zh
    # the request's language ends with the request: the next English one is English again
    assert translate("en", "figure.h_saturation") in api.post("/api/export/html", json=body).text


def test_snapshot_of_a_view_that_does_not_exist_is_refused(api):
    r = api.post("/api/export/html", json={"model": "tiny-char", "text": "abc", "layer": 4})
    assert r.status_code == 422 and "layer" in r.json()["detail"]
