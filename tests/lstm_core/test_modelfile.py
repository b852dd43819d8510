"""The native model file: exact round trip, and a clear ModelError for every kind of broken file."""
from __future__ import annotations

import json
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from lstm_core import LSTM, LSTMConfig, Model, ModelError, Tokenizer, load_model, save_model
from lstm_core.activations import HARD_SIGMOID_KERAS3, Activation

TEXT = "the cat sat on the mat. 我来自内蒙古!"


def char_model(dtype=np.float32, **cfg) -> Model:
    tok = Tokenizer.build(TEXT, "char")
    lstm = LSTM.random(LSTMConfig(input_size=len(tok), hidden_size=5, **cfg), seed=1, dtype=dtype)
    rng = np.random.default_rng(2)
    width = lstm.config.num_directions * lstm.config.output_size
    return Model(lstm, "onehot", tok, decoder_weight=rng.standard_normal((len(tok), width)).astype(dtype),
                 decoder_bias=rng.standard_normal(len(tok)).astype(dtype),
                 meta={"name": "tiny 蒙古", "description": "a test model", "provenance": {"seed": 1},
                       "metrics": {"loss": 1.25}, "card": "# Tiny\nmarkdown *card* ✓"})


def word_model() -> Model:
    tok = Tokenizer.build("The cat sat. The dog ran!", "word", lower=True)
    cfg = LSTMConfig(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, proj_size=2, bias=False)
    lstm = LSTM.random(cfg, seed=3, dtype=np.float64)
    emb = np.random.default_rng(4).standard_normal((len(tok), 3))
    return Model(lstm, "embedding", tok, embedding=emb, meta={"name": "words"})


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A valid char-level model file."""
    path = tmp_path / "tiny.safetensors"
    save_model(char_model(), path)
    return path


def parts(path: Path) -> tuple[dict, dict]:
    """The file's tensors and gatescope metadata, read with safetensors itself."""
    with safe_open(str(path), "np") as fh:
        meta = json.loads(fh.metadata()["gatescope"])
    return load_file(str(path)), meta


def write(path: Path, tensors: dict, meta: dict | None) -> Path:
    save_file(tensors, str(path), metadata=None if meta is None else {"gatescope": json.dumps(meta)})
    return path


def write_raw(path: Path, header: dict | bytes, data: bytes = b"", size_field: int | None = None) -> Path:
    """A safetensors file by hand: 8-byte little-endian header size, header, data."""
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h) if size_field is None else size_field) + h + data)
    return path


@pytest.mark.parametrize("make", [char_model, lambda: char_model(np.float64, num_layers=3, bidirectional=True),
                                  word_model], ids=["char-f32", "char-f64-bi", "word-embedding-proj"])
def test_round_trip_is_exact(tmp_path: Path, make) -> None:
    model = make()
    save_model(model, tmp_path / "m.safetensors")
    back = load_model(tmp_path / "m.safetensors")
    assert back.lstm.config == model.lstm.config
    assert back.lstm.params.keys() == model.lstm.params.keys()
    for k, v in model.lstm.params.items():
        assert back.lstm.params[k].dtype == v.dtype
        np.testing.assert_array_equal(back.lstm.params[k], v, err_msg=k)
    for name in ("embedding", "decoder_weight", "decoder_bias"):
        a, b = getattr(model, name), getattr(back, name)
        assert (a is None) == (b is None), name
        if a is not None:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert back.tokenizer == model.tokenizer and back.tokenizer.vocab == model.tokenizer.vocab
    assert (back.input_kind, back.meta) == (model.input_kind, model.meta)
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file was left behind"


def test_round_trip_keeps_onnx_and_keras_settings(tmp_path: Path) -> None:
    cfg = LSTMConfig(input_size=3, hidden_size=4, peepholes=True, clip=2.5, input_forget=True,
                     recurrent_activation=HARD_SIGMOID_KERAS3, cell_activation=Activation("softsign"),
                     hidden_activation=Activation("scaled_tanh", 0.5, 2.0))
    model = Model(LSTM.random(cfg, seed=0), "vector")
    save_model(model, tmp_path / "v.safetensors")
    back = load_model(tmp_path / "v.safetensors")
    assert back.lstm.config == cfg
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_array_equal(back.lstm.trace(x).h, model.lstm.trace(x).h)


@pytest.mark.parametrize("cut", [0, 5, 8, 9, "mid-header", "header-end", "mid-data", "minus-1"])
def test_truncated_file(saved: Path, cut) -> None:
    data = saved.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    at = {"mid-header": 8 + n // 2, "header-end": 8 + n, "mid-data": (8 + n + len(data)) // 2,
          "minus-1": len(data) - 1}.get(cut, cut)
    saved.write_bytes(data[:at])
    with pytest.raises(ModelError, match="truncated|too short|corrupt"):
        load_model(saved)


def test_header_size_larger_than_the_file(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "h.safetensors", {"__metadata__": {}}, size_field=10_000)
    with pytest.raises(ModelError, match=r"header claims 10000 bytes.*truncated"):
        load_model(path)
    write_raw(path, {}, size_field=2**63)
    with pytest.raises(ModelError, match="header claims"):
        load_model(path)


def test_header_claiming_a_huge_tensor_is_refused_without_allocating(saved: Path, tmp_path: Path) -> None:
    _, meta = parts(saved)
    huge = {"dtype": "F32", "shape": [100000, 100000, 100], "data_offsets": [0, 4 * 10**12]}
    lying = {"dtype": "F32", "shape": [100000, 100000, 100], "data_offsets": [0, 16]}
    for entry in (huge, lying):
        path = write_raw(tmp_path / "huge.safetensors",
                         {"lstm.weight_ih_l0": entry, "__metadata__": {"gatescope": json.dumps(meta)}}, bytes(16))
        tracemalloc.start()
        try:
            with pytest.raises(ModelError, match="lstm.weight_ih_l0.*claims 4000000000000 bytes"):
                load_model(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1_000_000, f"refusing the file allocated {peak} bytes"


@pytest.mark.parametrize("header,words", [
    (b"\x00\xffnot json at all", "not valid JSON"),
    (b"[1, 2, 3]", "JSON object"),
    ({"a": {"dtype": "F32", "shape": 5, "data_offsets": [0, 4]}}, "invalid shape"),
    ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, "invalid shape"),
    ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}, "data_offsets"),
    ({"a": {"dtype": ["F32"], "shape": [1], "data_offsets": [0, 4]}}, "F32 or F64"),
    ({"a": {"dtype": "F32", "shape": [1]}}, "malformed"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, "truncated or corrupt"),
])
def test_malformed_headers(tmp_path: Path, header, words: str) -> None:
    with pytest.raises(ModelError, match=words):
        load_model(write_raw(tmp_path / "bad.safetensors", header, bytes(4)))


@pytest.mark.parametrize("dtype,name", [(np.int32, "I32"), (np.int16, "I16")])
def test_wrong_dtype(saved: Path, dtype, name: str) -> None:
    tensors, meta = parts(saved)
    tensors["lstm.weight_hh_l0"] = tensors["lstm.weight_hh_l0"].astype(dtype)
    with pytest.raises(ModelError, match=f"lstm.weight_hh_l0.*{name}.*F32 or F64"):
        load_model(write(saved, tensors, meta))


def test_float16_file_reads_as_float32(tmp_path: Path) -> None:
    """A model stored in F16 (how large shipped models stay small) is read back as float32, holding
    exactly the float16 values; its trace matches the float32 model's to float16 precision."""
    model, path = char_model(), tmp_path / "half.safetensors"
    save_model(model, path, float16=True)
    stored, _ = parts(path)
    assert {a.dtype for a in stored.values()} == {np.dtype(np.float16)}
    back = load_model(path)
    assert back.lstm.dtype == np.float32 and back.decoder_weight.dtype == np.float32
    for k, v in model.lstm.params.items():
        assert np.array_equal(back.lstm.params[k], v.astype(np.float16).astype(np.float32))
    assert np.array_equal(back.decoder_bias, model.decoder_bias.astype(np.float16).astype(np.float32))
    assert back.meta == model.meta
    p, q = model.trace_text(TEXT).probs, back.trace_text(TEXT).probs
    assert np.abs(p - q).max() < 5e-3 and not np.array_equal(p, q)


def test_float16_refuses_values_out_of_range(tmp_path: Path) -> None:
    model = char_model()
    model.decoder_bias[0] = 1e6
    with pytest.raises(ModelError, match="decoder.bias.*float16"):
        save_model(model, tmp_path / "half.safetensors", float16=True)


def test_mixed_float_dtypes(saved: Path) -> None:
    tensors, meta = parts(saved)
    tensors["lstm.weight_hh_l0"] = tensors["lstm.weight_hh_l0"].astype(np.float64)
    with pytest.raises(ModelError, match="one dtype"):
        load_model(write(saved, tensors, meta))


@pytest.mark.parametrize("key,shape", [("lstm.weight_hh_l0", (20, 4)), ("lstm.bias_ih_l0", (21,)),
                                       ("lstm.weight_ih_l0", (5, 20))])
def test_mis_shaped_tensor(saved: Path, key: str, shape) -> None:
    tensors, meta = parts(saved)
    tensors[key] = np.zeros(shape, np.float32)
    with pytest.raises(ModelError, match=rf"{key.removeprefix('lstm.')} has shape .*expected"):
        load_model(write(saved, tensors, meta))


@pytest.mark.parametrize("key", ["lstm.weight_ih_l0", "lstm.bias_hh_l0", "decoder.weight", "decoder.bias"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_tensor(saved: Path, key: str, bad: float) -> None:
    tensors, meta = parts(saved)
    tensors[key] = tensors[key].copy()
    tensors[key].flat[3] = bad
    with pytest.raises(ModelError, match="NaN or infinite"):
        load_model(write(saved, tensors, meta))


def test_missing_and_unknown_tensors(saved: Path) -> None:
    tensors, meta = parts(saved)
    with pytest.raises(ModelError, match="unexpected tensors extra.weight"):
        load_model(write(saved, {**tensors, "extra.weight": np.zeros(2, np.float32)}, meta))
    with pytest.raises(ModelError, match="unexpected weight_foo_l0"):
        load_model(write(saved, {**tensors, "lstm.weight_foo_l0": np.zeros(2, np.float32)}, meta))
    del tensors["lstm.bias_hh_l0"]
    with pytest.raises(ModelError, match="missing bias_hh_l0"):
        load_model(write(saved, tensors, meta))


def test_missing_or_broken_gatescope_metadata(saved: Path) -> None:
    tensors, meta = parts(saved)
    with pytest.raises(ModelError, match="not a gatescope model"):
        load_model(write(saved, tensors, None))
    save_file(tensors, str(saved), metadata={"gatescope": "{not json"})
    with pytest.raises(ModelError, match="not a gatescope model"):
        load_model(saved)
    with pytest.raises(ModelError, match="format version 99"):
        load_model(write(saved, tensors, {**meta, "format_version": 99}))
    with pytest.raises(ModelError, match="architecture"):
        load_model(write(saved, tensors, {k: v for k, v in meta.items() if k != "architecture"}))
    bad_arch = {**meta["architecture"], "lstm": {**meta["architecture"]["lstm"], "num_layers": 0}}
    with pytest.raises(ModelError, match="invalid LSTM configuration.*num_layers"):
        load_model(write(saved, {}, {**meta, "architecture": bad_arch}))
    with pytest.raises(ModelError, match="input kind"):
        load_model(write(saved, tensors, {**meta, "architecture": {**meta["architecture"], "input": "pixels"}}))


def test_vocabulary_size_must_match(saved: Path, tmp_path: Path) -> None:
    tensors, meta = parts(saved)
    shorter = {**meta, "tokenizer": {**meta["tokenizer"], "vocab": meta["tokenizer"]["vocab"][:-1]}}
    with pytest.raises(ModelError, match="vocabulary size"):  # one-hot input_size vs V
        load_model(write(saved, tensors, shorter))
    word = tmp_path / "w.safetensors"
    save_model(word_model(), word)
    wt, wm = parts(word)
    with pytest.raises(ModelError, match="embedding must be.*vocabulary"):
        load_model(write(word, {**wt, "embedding.weight": wt["embedding.weight"][:-1]}, wm))
    with pytest.raises(ModelError, match="decoder weight.*vocabulary"):
        load_model(write(saved, {**tensors, "decoder.weight": tensors["decoder.weight"][:-1]}, meta))
    with pytest.raises(ModelError, match="decoder bias"):
        load_model(write(saved, {**tensors, "decoder.bias": tensors["decoder.bias"][:-1]}, meta))


def test_bad_tokenizer_metadata(saved: Path) -> None:
    tensors, meta = parts(saved)
    vocab = meta["tokenizer"]["vocab"]
    for tok, words in (({**meta["tokenizer"], "vocab": [*vocab[:-1], vocab[0]]}, "twice"),
                       ({**meta["tokenizer"], "unk": "<nope>"}, "unknown token"),
                       ({**meta["tokenizer"], "kind": "bpe"}, "tokenizer kind"),
                       ("abc", "tokenizer metadata")):
        with pytest.raises(ModelError, match=words):
            load_model(write(saved, tensors, {**meta, "tokenizer": tok}))


def test_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path / "nope.safetensors")
    with pytest.raises(ModelError, match="cannot read"):
        load_model(tmp_path)


@pytest.mark.parametrize("edit", ["overlap", "trailing"])
def test_tensors_must_tile_the_data_exactly(saved: Path, edit: str) -> None:
    raw = saved.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8 : 8 + n]), raw[8 + n :]
    if edit == "overlap":  # two tensors read the same bytes, leaving others unread
        a, b = header["lstm.bias_ih_l0"]["data_offsets"]
        first = min((e["data_offsets"] for k, e in header.items() if k != "__metadata__" and
                     e["data_offsets"][1] - e["data_offsets"][0] == b - a and k != "lstm.bias_ih_l0"))
        header["lstm.bias_ih_l0"]["data_offsets"] = first
    else:
        data += bytes(16)
    with pytest.raises(ModelError, match="cannot read tensors"):
        load_model(write_raw(saved, header, data))


def test_files_written_before_heads_had_kinds_load_as_language_models(saved: Path) -> None:
    tensors, meta = parts(saved)
    arch = {k: v for k, v in meta["architecture"].items() if k != "head"}  # as every file before heads had kinds
    old = load_model(write(saved, tensors, {**meta, "architecture": arch}))
    assert old.head.kind == "next_token" and old.head.labels == old.tokenizer.vocab
    tr = old.lstm.trace(old.inputs(old.encode("the cat").ids))
    np.testing.assert_array_equal(old.decode(tr), old.outputs(tr))


@pytest.mark.parametrize("kind, pool, activation", [("tagger", "final", "softmax"), ("classifier", "last", "softmax"),
                                                     ("classifier", "final", "sigmoid")])
def test_head_kind_labels_pool_and_activation_round_trip(tmp_path: Path, kind, pool, activation) -> None:
    m = char_model()
    K = 3
    w = np.random.default_rng(5).standard_normal((K, m.decoder_weight.shape[1])).astype(np.float32)
    labels = ("ná", "", "<b>")
    head = Model(m.lstm, "onehot", m.tokenizer, None, w, None, m.meta, head_kind=kind, labels=labels, pool=pool,
                 head_activation=activation)
    save_model(head, tmp_path / "h.safetensors")
    back = load_model(tmp_path / "h.safetensors")
    assert (back.head.kind, back.head.labels, back.head.pool, back.head.activation) == (kind, labels, pool, activation)
    tr = back.lstm.trace(back.inputs(back.encode("mat").ids))
    assert back.outputs(tr).shape == ((3, K) if kind == "tagger" else (K,))
    assert back.decode(tr) is None  # decode stays the next-token probabilities


def test_broken_head_metadata(saved: Path) -> None:
    tensors, meta = parts(saved)
    arch, V = meta["architecture"], len(meta["tokenizer"]["vocab"])
    for head, words in (({"kind": "regressor"}, "unknown head kind"), ("tagger", "must be an object"),
                        ({"kind": "tagger", "labels": ["a"]}, f"{V} outputs but 1 label names"),
                        ({"kind": "tagger", "labels": "abc"}, "list of strings"),
                        ({"kind": "classifier", "pool": "mean"}, "pooling"),
                        ({"kind": "tagger", "activation": "relu"}, "activation"),
                        ({"kind": "next_token", "labels": ["x"] * V}, "labels are its vocabulary")):
        with pytest.raises(ModelError, match=words):
            load_model(write(saved, tensors, {**meta, "architecture": {**arch, "head": head}}))
