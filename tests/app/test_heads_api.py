"""What the model outputs, over the API: a tagger's labels per position, a classifier's distribution, the head in
/api/models, and texts wrapped in the vocabulary's begin/end tokens."""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, load_model, save_model

LETTERS = tuple("abcdefgh ")
TAGS = ("O", "<b>", "B-X", "")  # a label that looks like HTML and an empty one: names are data


def make_head_models(d: Path) -> None:
    """A bidirectional tagger, a causal classifier, a language model with <s> and </s>, and one without."""
    rng = np.random.default_rng(3)
    tok = Tokenizer("char", ("<PAD>", "<UNK>", *LETTERS), "<UNK>", pad="<PAD>")
    V = len(tok)

    def lin(k: int, width: int):
        return rng.normal(0, 2, (k, width)).astype(np.float32), rng.normal(0, 0.5, k).astype(np.float32)

    emb = rng.normal(size=(V, 4)).astype(np.float32)
    tagger = Model(LSTM.random(LSTMConfig(4, 5, 1, bidirectional=True), seed=1), "embedding", tok, emb,
                   *lin(4, 10), {"name": "Tagger"}, head_kind="tagger", labels=TAGS)
    classifier = Model(LSTM.random(LSTMConfig(4, 6, 2), seed=2), "embedding", tok, emb, *lin(3, 6),
                       {"name": "Classifier"}, head_kind="classifier", labels=("neg", "neu", "pos"))
    wtok = Tokenizer("char", ("<s>", "</s>", "<unk>", *LETTERS), "<unk>", bos="<s>", eos="</s>")
    wrapped = Model(LSTM.random(LSTMConfig(len(wtok), 4, 1), seed=3), "onehot", wtok, None, *lin(len(wtok), 4),
                    {"name": "Wrapped LM"})
    for name, m in {"tagger": tagger, "classifier": classifier, "wrapped": wrapped}.items():
        save_model(m, d / f"{name}.safetensors")


@pytest.fixture(scope="module")
def head_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory with the tagger, classifier and wrapped models above."""
    d = tmp_path_factory.mktemp("heads")
    make_head_models(d)
    return d


@pytest.fixture()
def client(head_dir: Path) -> Iterator:
    """A TestClient on a fresh app serving `head_dir`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings, get_settings

    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=head_dir)
    with TestClient(app) as c:
        yield c


def _trace(client, model: str, text: str, **kw) -> dict:
    r = client.post("/api/trace", json={"model": model, "text": text, "format": "json", **kw})
    assert r.status_code == 200, r.text
    return r.json()


def test_models_say_what_they_output(client):
    models = {m["id"]: m for m in client.get("/api/models").json()["models"]}
    assert models["tagger"]["head"] == {"kind": "tagger", "size": 4, "labels": list(TAGS), "pool": None,
                                        "activation": "softmax"}
    assert models["classifier"]["head"] == {"kind": "classifier", "size": 3, "labels": ["neg", "neu", "pos"],
                                            "pool": "final", "activation": "softmax"}
    assert models["wrapped"]["head"]["kind"] == "next_token" and models["wrapped"]["head"]["labels"] is None
    assert models["tagger"]["specials"] == {"unk": "<UNK>", "pad": "<PAD>", "bos": None, "eos": None}
    assert models["wrapped"]["can_wrap"] and not models["tagger"]["can_wrap"]


def test_a_tagger_gives_its_top_labels_at_every_position(client, head_dir):
    text = "bad cafe!"  # "!" is not in the vocabulary: <UNK>
    body = _trace(client, "tagger", text, top_k=3)
    model = load_model(head_dir / "tagger.safetensors")
    probs = model.trace_text(text).probs  # (T, 4)
    assert body["head"] == "tagger" and body["classes"] is None
    assert body["ids"][-1] == 1  # the vocabulary's <UNK> row
    for t, row in enumerate(probs):
        best = sorted(range(4), key=lambda j: (-float(row[j]), j))[:3]
        assert body["top_k"]["ids"][t] == best
        assert body["top_k"]["tokens"][t] == [TAGS[j] for j in best]
        assert body["top_k"]["probs"][t] == [float(row[j]) for j in best]
    assert body["next_prob"] == [None] * len(text)  # no next-token claim for a tagger


def test_a_classifier_gives_one_distribution_for_the_text(client, head_dir):
    body = _trace(client, "classifier", "a cab")
    model = load_model(head_dir / "classifier.safetensors")
    tt = model.trace_text("a cab")
    # Independently of Head.probs: softmax over the decoder applied to the last layer's final h.
    z = tt.trace.h_n[-1].astype(np.float64) @ model.decoder_weight.T.astype(np.float64) + model.decoder_bias
    want = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert body["head"] == "classifier" and body["top_k"] is None
    assert body["classes"]["labels"] == ["neg", "neu", "pos"]
    assert np.abs(np.array(body["classes"]["probs"]) - want).max() < 1e-6


def test_the_prefix_cache_gives_a_classifier_the_whole_texts_answer(client, head_dir):
    model = load_model(head_dir / "classifier.safetensors")
    reused = []
    for text in ("a cab", "a cabbage", "a cabb"):  # longer, then shorter: both start from a cached prefix
        body = _trace(client, "classifier", text)
        assert np.abs(np.array(body["classes"]["probs"]) - model.trace_text(text).probs).max() < 1e-6, text
        reused.append(body["cached_prefix"])
    assert reused == [0, 5, 6]


def test_wrap_puts_the_begin_and_end_tokens_into_the_trace(client, head_dir):
    body = _trace(client, "wrapped", "abc", wrap=True)
    model = load_model(head_dir / "wrapped.safetensors")
    assert body["tokens"] == ["<s>", "a", "b", "c", "</s>"] and body["steps"] == 5
    assert body["ids"] == [0, 3, 4, 5, 1] and body["spans"] == [[0, 0], [0, 1], [1, 2], [2, 3], [3, 3]]
    assert len(body["top_k"]["ids"]) == 5 and len(body["next_prob"]) == 5
    assert np.array_equal(np.array(body["h"]), model.trace_text("abc", wrap=True).trace.h.astype(np.float64))
    assert _trace(client, "wrapped", "abc")["tokens"] == ["a", "b", "c"]  # not cached as the wrapped answer
    step = client.post("/api/step", json={"model": "wrapped", "text": "abc", "t": 4, "wrap": True})
    assert step.status_code == 200 and step.json()["token"] == "</s>"


def test_wrapping_a_vocabulary_without_begin_or_end_is_a_sentence(client):
    r = client.post("/api/trace", json={"model": "tagger", "text": "abc", "wrap": True})
    assert r.status_code == 422 and r.json()["code"] == "cannot_wrap"
    assert "no begin or end token" in r.json()["detail"]


def test_upload_takes_labels_head_and_pool(tmp_path):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app
    from app.settings import Settings, get_settings

    torch.manual_seed(0)
    sd = {**{f"emb.{k}": v for k, v in torch.nn.Embedding(5, 3).state_dict().items()},
          **{f"rnn.{k}": v for k, v in torch.nn.LSTM(3, 4, bidirectional=True).state_dict().items()},
          **{f"fc.{k}": v for k, v in torch.nn.Linear(8, 2).state_dict().items()}}
    torch.save(sd, tmp_path / "c.pt")
    app = create_app()
    app.dependency_overrides[get_settings] = lambda: Settings(model_dir=tmp_path / "models")
    with TestClient(app) as c:
        form = {"vocab": '["[PAD]", "[UNK]", "a", "b", "c"]', "head": "classifier", "pool": "last"}
        r = c.post("/api/models/upload", files={"file": ("c.pt", (tmp_path / "c.pt").read_bytes()),
                                                 "labels": ("labels.txt", b"spam\nham\n")}, data=form)
        assert r.status_code == 200, r.text
        info = r.json()
        assert info["head"] == {"kind": "classifier", "size": 2, "labels": ["spam", "ham"], "pool": "last",
                                "activation": "softmax"}
        assert info["verification"]["passed"] and info["specials"]["unk"] == "[UNK]"
        other = c.post("/api/models/upload", files={"file": ("c.pt", (tmp_path / "c.pt").read_bytes())},
                       data={**form, "head": "tagger", "pool": ""})
        assert other.status_code == 200 and other.json()["id"] != info["id"]  # another head: another model
        bad = c.post("/api/models/upload", files={"file": ("c.pt", (tmp_path / "c.pt").read_bytes())},
                     data={**form, "labels": '["one"]'})
        assert bad.status_code == 422 and "1 classes but the head has 2 outputs" in bad.json()["detail"]
