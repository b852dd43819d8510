"""The page's upload: drop in a model, read its verification figure, trace it (text or vectors)."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from tests.browser.conftest import Page, make_models, open_page, serve_models

pytestmark = pytest.mark.browser
torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory) -> Iterator[str]:
    """A live server on its own model directory, since uploads add files to it."""
    yield from serve_models(tmp_path_factory, "upload-models", make_models)


@pytest.fixture()
def up(browser, upload_server) -> Iterator[Page]:
    """A fresh page on the upload server."""
    yield from open_page(browser, upload_server)


def _submit(up: Page, model, vocab=None) -> str:
    p = up.page
    p.locator("#upload-file").set_input_files(str(model))
    if vocab:
        p.locator("#upload-vocab").set_input_files(str(vocab))
    p.locator("form.upload button[type=submit]").click()
    p.wait_for_function("() => { const r = document.querySelector('.upload .result');"
                        " return r && /picker|rror|not|refused|cannot/.test(r.textContent) &&"
                        " !/Uploading|Importing/.test(r.textContent); }", timeout=60000)
    return p.locator(".upload .result").inner_text()


def test_upload_a_torch_model_and_trace_it(up, tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    lstm = {f"rnn.{k}": v for k, v in torch.nn.LSTM(4, 6).state_dict().items()}
    save_file({"embedding.weight": torch.randn(5, 4), **lstm, "decoder.weight": torch.randn(5, 6)},
              str(tmp_path / "tiny.safetensors"))
    (tmp_path / "vocab.json").write_text('["a", "b", "c", "d", " "]')
    up.open()
    result = _submit(up, tmp_path / "tiny.safetensors", tmp_path / "vocab.json")
    assert "now in the model picker" in result and "Checked against torch" in result
    up.page.wait_for_function("document.querySelector('#model').value.startsWith('import-')")
    new_id = up.page.locator("#model").input_value()
    up.type("abc dab")
    assert up.page.evaluate("window.gatescope.rendered.model") == new_id
    assert "Checked against torch" in up.page.locator(".current-verification").inner_text()
    up.shot("upload-torch", "#sec-upload")


def test_upload_a_vector_model_and_feed_it_npy(up, tmp_path):
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal((1, 12, 2)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal((1, 12, 3)).astype(np.float32), "r")]
    g = helper.make_graph([helper.make_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=3)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["t", 1, 2])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), str(tmp_path / "vec.onnx"))
    up.open()
    assert "now in the model picker" in _submit(up, tmp_path / "vec.onnx")
    p = up.page
    p.wait_for_function("window.gatescope.rendered.model.startsWith('import-')")
    assert p.locator("#vectors").is_visible() and not p.locator("#text").is_visible()
    assert p.evaluate("window.gatescope.rendered.steps") == 6  # the panel's default sequence
    np.save(tmp_path / "x.npy", rng.standard_normal((9, 2)))
    p.locator("#vectors input[type=file]").set_input_files(str(tmp_path / "x.npy"))
    p.wait_for_function("window.gatescope.rendered.steps === 9")
    p.locator("#vectors textarea").fill("1, 2\n3, oops")
    assert "not a number" in p.locator("#vectors .status").inner_text()


def test_a_bad_file_shows_the_server_sentence(up, tmp_path):
    (tmp_path / "notes.keras").write_bytes(b"PK\x03\x04 this is not really a zip")
    up.open()
    before = up.page.locator("#model option").count()
    result = _submit(up, tmp_path / "notes.keras")
    assert "cannot be opened" in result or "corrupt" in result
    assert up.page.locator(".upload .result.error").count() == 1
    assert up.page.locator("#model option").count() == before
    # Chromium logs every 4xx response as a console error; this one is the refusal under test.
    up.errors[:] = [e for e in up.errors if "status of 422" not in e]


def test_upload_a_classifier_with_its_labels_and_see_its_bars(up, tmp_path):
    """A torch classifier checkpoint says nothing about its head: the form's labels, head and pool do."""
    torch.manual_seed(1)
    emb, rnn, fc = torch.nn.Embedding(6, 4), torch.nn.LSTM(4, 5, bidirectional=True), torch.nn.Linear(10, 3)
    sd = {**{f"emb.{k}": v for k, v in emb.state_dict().items()},
          **{f"rnn.{k}": v for k, v in rnn.state_dict().items()}, **{f"fc.{k}": v for k, v in fc.state_dict().items()}}
    torch.save(sd, tmp_path / "clf.pt")
    (tmp_path / "vocab.json").write_text('["<PAD>", "<UNK>", "a", "b", "c", " "]')
    (tmp_path / "labels.txt").write_text("sad\nneutral\nhappy\n")
    up.open()
    p = up.page
    assert not p.locator("#upload-pool").is_visible()  # only a classifier reads one vector
    p.locator("#upload-labels").set_input_files(str(tmp_path / "labels.txt"))
    p.select_option("#upload-head", "classifier")
    p.select_option("#upload-pool", "last")
    result = _submit(up, tmp_path / "clf.pt", tmp_path / "vocab.json")
    assert "now in the model picker" in result and "Checked against torch" in result
    p.wait_for_function("window.gatescope.rendered && window.gatescope.rendered.model.startsWith('import-')")
    up.type("abc cab")
    info = p.evaluate("window.gatescope.context().info.head")
    assert info == {"kind": "classifier", "size": 3, "labels": ["sad", "neutral", "happy"], "pool": "last",
                    "activation": "softmax"}
    p.locator("#sec-predictions").scroll_into_view_if_needed()
    up.settle()
    assert p.evaluate("document.getElementById('classes-plot').layout.yaxis.ticktext") == ["sad", "neutral", "happy"]
    assert p.locator("#classes-plot").is_visible() and not p.locator("#pred-grid").is_visible()
    assert "last position" in p.text_content("#predictions .note")
