"""POST /api/models/upload: imported, verified, stored by content hash, in the picker; or refused, nothing stored."""
from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from safetensors.torch import save_file  # noqa: E402


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """A TestClient on a fresh app with an empty model directory and a 2 MB upload limit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings, get_settings

    models = tmp_path / "models"
    monkeypatch.setenv("GATESCOPE_MAX_UPLOAD_BYTES", str(2 << 20))
    get_settings.cache_clear()
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=models, max_upload_bytes=2 << 20)
    with TestClient(app) as c:
        yield c, models
    get_settings.cache_clear()


def _lm_bytes(tmp_path: Path, seed: int = 0) -> bytes:
    torch.manual_seed(seed)
    lstm = {f"rnn.{k}": v for k, v in torch.nn.LSTM(3, 5, 2).state_dict().items()}
    save_file({"embedding.weight": torch.randn(4, 3), **lstm, "fc.weight": torch.randn(4, 5),
               "fc.bias": torch.randn(4)}, str(tmp_path / "lm.safetensors"))
    return (tmp_path / "lm.safetensors").read_bytes()


def test_upload_adds_a_verified_model_to_the_picker(store, tmp_path):
    client, models = store
    data = _lm_bytes(tmp_path)
    r = client.post("/api/models/upload", files={"file": ("my lm.safetensors", data)},
                    data={"vocab": '["a", "b", "c", " "]', "name": "My LM"})
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["id"].startswith("import-") and info["name"] == "My LM" and info["created"]
    assert info["verification"]["passed"] and info["verification"]["max"] < 1e-5
    assert [p.name for p in models.iterdir()] == [f"{info['id']}.safetensors"]
    assert info["id"] in [m["id"] for m in client.get("/api/models").json()["models"]]
    tr = client.post("/api/trace", json={"model": info["id"], "text": "abc a", "format": "json"})
    assert tr.status_code == 200 and tr.json()["steps"] == 5
    again = client.post("/api/models/upload", files={"file": ("other.safetensors", data)},
                        data={"vocab": '["a", "b", "c", " "]', "name": "My LM"})
    assert again.json()["id"] == info["id"] and again.json()["created"] is False
    assert len(list(models.iterdir())) == 1


def test_vector_model_upload_traces_vectors(store, tmp_path):
    client, _ = store
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((1, 8, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((1, 8, 2)).astype(np.float32), "r")]
    g = helper.make_graph([helper.make_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=2, clip=1.5)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["t", 1, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    raw = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]).SerializeToString()
    r = client.post("/api/models/upload", files={"file": ("g.onnx", raw)})
    assert r.status_code == 200, r.text
    assert r.json()["input"] == "vector" and r.json()["verification"]["framework"].startswith("onnxruntime")
    tr = client.post("/api/trace", json={"model": r.json()["id"], "text": "", "vectors": [[0, 1, 2], [1, 0, -1]]})
    assert tr.status_code == 200, tr.text


class _Evil:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_refusals_store_nothing(store, tmp_path):
    client, models = store
    marker = tmp_path / "pwned"
    cases = {
        "pickle": (dict(files={"file": ("evil.pt", pickle.dumps({"w": _Evil(str(marker))}))}), 422),
        "wrong-vocab": (dict(files={"file": ("lm.safetensors", _lm_bytes(tmp_path))}, data={"vocab": '["a"]'}), 422),
        "truncated": (dict(files={"file": ("lm.safetensors", _lm_bytes(tmp_path)[:300])}), 422),
        "not-a-model": (dict(files={"file": ("notes.txt", b"hello world, not weights")}), 422),
        "no-file": (dict(files={"vocab": ("v.txt", b"a\nb\n")}), 422),
        "too-large": (dict(files={"file": ("big.onnx", b"\x08" * (3 << 20))}), 413),
    }
    for name, (kw, status) in cases.items():
        r = client.post("/api/models/upload", **kw)
        assert r.status_code == status, (name, r.text)
        body = r.json()
        assert body["detail"].endswith(".") and body["code"], name
    assert not marker.exists()
    assert not models.exists() or not any(models.iterdir())


def test_names_never_become_paths(store, tmp_path):
    client, models = store
    r = client.post("/api/models/upload", files={"file": ("../../../etc/evil.safetensors", _lm_bytes(tmp_path))},
                    data={"name": "../../x/../y", "vocab": "a\nb\nc\nd\n"})
    assert r.status_code == 200, r.text
    assert [p.name for p in models.iterdir()] == [f"{r.json()['id']}.safetensors"]
    assert r.json()["name"] == "../../x/../y"  # kept as a label, nothing more
    assert not (tmp_path.parent / "etc").exists()


def test_malformed_requests(store):
    client, _ = store
    r = client.post("/api/models/upload", content=b"raw bytes", headers={"content-type": "application/octet-stream"})
    assert r.status_code == 415
    r = client.post("/api/models/upload", content=b'--XX\r\nContent-Disposition: form-data; name="file"\r\n\r\nab',
                    headers={"content-type": "multipart/form-data; boundary=XX"})
    # python-multipart drops a part that never ends, so the answer is "no file (or it was cut off)".
    assert r.status_code in (400, 422) and "cut off" in r.json()["detail"]


def test_the_model_reaches_its_name_only_after_it_read_back(store, tmp_path, monkeypatch):
    """Saved under a hidden name the registry ignores, read back from there, then renamed into place."""
    import app.store as upload
    from lstm_core import ModelError, load_model

    client, models = store
    seen = []

    def checked_load(path):
        seen.append((Path(path).name, sorted(p.name for p in models.iterdir())))
        return load_model(path)

    monkeypatch.setattr(upload, "load_model", checked_load)
    r = client.post("/api/models/upload", files={"file": ("lm.safetensors", _lm_bytes(tmp_path))},
                    data={"vocab": '["a", "b", "c", " "]'})
    assert r.status_code == 200, r.text
    [(read, present)] = seen
    assert read.startswith(".import-") and not read.endswith(".safetensors") and present == [read]
    assert [p.name for p in models.iterdir()] == [f"{r.json()['id']}.safetensors"]

    def broken_load(path):
        raise ModelError("simulated damage")

    monkeypatch.setattr(upload, "load_model", broken_load)
    r = client.post("/api/models/upload", files={"file": ("lm.safetensors", _lm_bytes(tmp_path, seed=1))},
                    data={"vocab": '["a", "b", "c", " "]', "name": "another"})
    assert r.status_code == 500 and "did not read back" in r.json()["detail"]
    assert len(list(models.iterdir())) == 1  # nothing new, no temporary file left


def test_an_importer_crash_is_a_500_sentence_and_the_server_goes_on(store, tmp_path, monkeypatch):
    """A bug inside an importer reaches the page as one sentence with the file name and exception type."""
    import lstm_core.importers as importers

    client, models = store
    real = importers.import_model

    def boom(*a, **k):
        raise IndexError("secret internals")

    monkeypatch.setattr(importers, "import_model", boom)
    r = client.post("/api/models/upload", files={"file": ("my model.onnx", b"\x08\x07rest")})
    body = r.json()
    assert r.status_code == 500 and set(body) == {"detail", "code"} and body["code"] == "internal_error"
    assert "my model.onnx" in body["detail"] and "(IndexError)" in body["detail"]
    assert "Reporting a problem" in body["detail"] and "secret internals" not in body["detail"]
    assert not models.exists() or not any(models.iterdir())
    monkeypatch.setattr(importers, "import_model", real)
    ok = client.post("/api/models/upload", files={"file": ("lm.safetensors", _lm_bytes(tmp_path))})
    assert ok.status_code == 200, ok.text
