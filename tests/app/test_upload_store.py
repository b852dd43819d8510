"""Uploads, safely: stored once per set of weights, within a quota and the model limits, written atomically,
leftovers swept at startup, bounded while read, and described in /openapi.json."""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.testing import start_server, stop_server
from tests.app.conftest import app_client

torch = pytest.importorskip("torch")
from safetensors.torch import save_file  # noqa: E402

VOCAB = '["a", "b", "c", " "]'


def lm_bytes(tmp_path: Path, seed: int = 0, hidden: int = 5) -> bytes:
    """A small PyTorch language model (embedding, 2-layer LSTM, linear decoder) as safetensors bytes."""
    torch.manual_seed(seed)
    lstm = {f"rnn.{k}": v for k, v in torch.nn.LSTM(3, hidden, 2).state_dict().items()}
    path = tmp_path / f"lm{seed}.safetensors"
    save_file({"embedding.weight": torch.randn(4, 3), **lstm, "fc.weight": torch.randn(4, hidden),
               "fc.bias": torch.randn(4)}, str(path))
    return path.read_bytes()


def post(c, data: bytes, name: str, vocab: str = VOCAB):
    return c.post("/api/models/upload", files={"file": (f"{name}.safetensors", data)},
                  data={"vocab": vocab, "name": name})


def test_the_same_weights_under_ten_names_are_stored_once(tmp_path):
    """Defect 16.3: the same 52 MB of weights uploaded under 10 names made 10 models (+570 MB, +52 MB of disk each)."""
    data, models = lm_bytes(tmp_path), tmp_path / "models"
    with app_client(models) as c:
        answers = [post(c, data, f"name {k}") for k in range(10)]
        assert [r.status_code for r in answers] == [200] * 10
        assert len({r.json()["id"] for r in answers}) == 1
        assert [r.json()["created"] for r in answers] == [True] + [False] * 9
        assert "uploaded before, as 'name 0'" in answers[1].json()["notes"][0]
        renamed = c.post("/api/models/upload", files={"file": ("other.bin", data)}, data={"vocab": VOCAB}).json()
        assert renamed["id"] == answers[0].json()["id"]  # another file name, no name: the same weights
        assert len(c.get("/api/models").json()["models"]) == 1
    assert len(list(models.iterdir())) == 1


def test_the_quota_evicts_the_least_recently_uploaded(tmp_path):
    models = tmp_path / "models"
    with app_client(models, upload_store_count=2) as c:
        ids = [post(c, lm_bytes(tmp_path, seed), f"m{seed}").json()["id"] for seed in range(2)]
        os.utime(models / f"{ids[0]}.safetensors", (time.time() - 60, time.time() - 60))
        assert post(c, lm_bytes(tmp_path, 1), "again").json()["created"] is False  # m1 is now the most recent
        os.utime(models / f"{ids[0]}.safetensors", (time.time() - 60, time.time() - 60))
        third = post(c, lm_bytes(tmp_path, 2), "m2").json()["id"]
        listed = {m["id"] for m in c.get("/api/models").json()["models"]}
        assert listed == {ids[1], third}
        assert c.post("/api/trace", json={"model": ids[0], "text": "ab"}).status_code == 404
    assert sorted(p.stem for p in models.iterdir()) == sorted([ids[1], third])


def test_models_beyond_the_limits_are_refused_with_the_limits_stated(tmp_path):
    with app_client(tmp_path / "m", upload_max_vocab=3) as c:
        r = post(c, lm_bytes(tmp_path), "big")
        assert r.status_code == 413 and r.json()["code"] == "model_too_large"
        assert "vocabulary of 4" in r.json()["detail"] and "at most" in r.json()["detail"]
        assert "3 vocabulary entries" in r.json()["detail"]
    with app_client(tmp_path / "m", upload_max_parameters=100) as c:
        r = post(c, lm_bytes(tmp_path), "big")
        assert r.status_code == 413 and "100 parameters" in r.json()["detail"]
    with app_client(tmp_path / "m", upload_store_mb=1) as c:
        r = post(c, lm_bytes(tmp_path, hidden=300), "huge")  # 2 x 4 x 300 x 303 float32: 2.9 MB
        assert r.status_code == 413 and r.json()["code"] == "store_full"
    assert not list((tmp_path / "m").glob("*.safetensors"))


def test_leftovers_of_killed_uploads_are_swept_at_startup(tmp_path, monkeypatch):
    """Defect 16.9: kill -9 left a 51.9 MB .import-*.safetensors.tmp in the models directory and
    gatescope-upload-* directories in the temporary directory, never cleaned."""
    import tempfile

    models, temp = tmp_path / "models", tmp_path / "tmp"
    models.mkdir()
    temp.mkdir()
    old = time.time() - 2 * 3600
    stale = [models / ".import-0123.safetensors.tmp", models / ".import-0123.9f8e7d6c5b4a.upload",
             temp / "gatescope-upload-x1y2z3"]
    for p in stale:
        if p.suffix:
            p.write_bytes(b"\0" * 1000)
        else:
            p.mkdir()
            (p / "upload.pt").write_bytes(b"\0" * 1000)
        os.utime(p, (old, old))
    young = models / ".import-4567.safetensors.tmp"  # another worker may be writing it right now
    young.write_bytes(b"\0")
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    with app_client(models) as c:
        assert c.get("/api/health").status_code == 200
    assert not any(p.exists() for p in stale) and young.exists()


def test_a_chunked_upload_over_the_limit_is_413(tmp_path):
    """Defect 16.10: a body with no Content-Length, cut off at the limit while read, was answered 400."""
    boundary = "gsboundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.onnx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(40):
            yield b"\x08" * 65536  # 2.5 MiB in all, over the 2 MiB limit below
        yield f"\r\n--{boundary}--\r\n".encode()

    with app_client(tmp_path / "m", max_upload_bytes=2 << 20) as c:
        r = c.post("/api/models/upload", content=body(),
                   headers={"content-type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413, r.text
        assert r.json()["code"] == "body_too_large"


def test_the_upload_form_is_in_the_openapi_schema(client):
    """Defect 16.10: no requestBody, so no schema-driven tool could test the upload endpoint."""
    op = client.get("/openapi.json").json()["paths"]["/api/models/upload"]["post"]
    schema = op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert set(schema["properties"]) == {"file", "vocab", "tokenizer", "name"}
    assert schema["properties"]["tokenizer"]["enum"] == ["char", "word"]


def test_uploads_can_be_turned_off(tmp_path):
    with app_client(tmp_path / "m", uploads=False) as c:
        r = post(c, lm_bytes(tmp_path), "x")
        assert r.status_code == 403 and r.json()["code"] == "uploads_off"


@pytest.mark.slow
def test_twenty_identical_uploads_at_once_all_succeed(tmp_path):
    """Defect 16.7: 20 at once gave 15 x 200 and 5 x 500 (a FileNotFoundError renaming a shared temporary file).
    Twenty import slots here, so that they really run at once."""
    import httpx

    data, models = lm_bytes(tmp_path), tmp_path / "models"
    base, proc = start_server(models, env={"GATESCOPE_UPLOAD_SLOTS": "20", "GATESCOPE_UPLOAD_QUEUE": "20"})
    try:
        def up(k: int):
            with httpx.Client(base_url=base, timeout=120) as c:
                return post(c, data, "same")

        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(up, range(20)))
    finally:
        stop_server(proc)
    assert [r.status_code for r in answers] == [200] * 20, [r.text for r in answers if r.status_code != 200][:2]
    assert len({r.json()["id"] for r in answers}) == 1
    assert [p.name for p in models.iterdir()] == [f"{answers[0].json()['id']}.safetensors"]
