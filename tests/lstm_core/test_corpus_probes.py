"""Features, probes and the census: hand-derived feature values, a planted unit, brute-force AUC and r."""
from __future__ import annotations

import io

import numpy as np
import pytest

from lstm_core import LSTM, Model, ModelError, Tokenizer
from lstm_core.corpus import (
    IndexSettings,
    builtin_features,
    census_markdown,
    label_feature,
    label_values,
    regex_feature,
    run_census,
    score_table,
)
from lstm_core.corpus.features import char_features
from tests.lstm_core.corpus_fixtures import build_small

TEXT = 'x = f("a(b", [1,\n  2])  # C\'d\n'


def _at(positions, n: int | None = None):
    v = np.zeros(len(TEXT) if n is None else n)
    v[list(positions)] = 1
    return v


def test_builtin_features_by_hand():
    f = char_features(TEXT)
    np.testing.assert_array_equal(f["double_quotes"], _at(range(6, 10)))  # opening quote in, closing out
    np.testing.assert_array_equal(f["single_quotes"], _at([]))  # the ' is inside the comment
    np.testing.assert_array_equal(f["docstring"], _at([]))
    np.testing.assert_array_equal(f["comment"], _at(range(24, 29)))  # '#' to 'd', not the newline
    # the '(' inside the string does not count
    np.testing.assert_array_equal(f["bracket_depth"], [0] * 5 + [1] * 8 + [2] * 7 + [1] + [0] * 9)
    np.testing.assert_array_equal(f["line_position"], [*range(1, 17), 0, *range(1, 13), 0])
    np.testing.assert_array_equal(f["indentation"], [0] * 17 + [1, 2] + [2] * 10 + [0])
    np.testing.assert_array_equal(f["uppercase"], _at([26]))
    np.testing.assert_array_equal(f["word_start"], _at([0, 4, 7, 9, 14, 19, 26, 28]))


def test_triple_quotes_and_unterminated_strings():
    f = char_features("'''a\n'b'''x\n\"q\ny")
    np.testing.assert_array_equal(f["docstring"], _at(range(0, 7), 16))  # the ''' block spans the newline
    np.testing.assert_array_equal(f["single_quotes"], _at([], 16))
    np.testing.assert_array_equal(f["double_quotes"], _at([12, 13], 16))  # "q ends at the line's end


def test_regex_and_label_features(tmp_path):
    spans = np.array([[k, k + 1] for k in range(len(TEXT))])
    np.testing.assert_array_equal(regex_feature(TEXT, spans, r"a\(b").values, _at([7, 8, 9]))
    with pytest.raises(ModelError, match="does not compile"):
        regex_feature(TEXT, spans, "(unclosed")
    with pytest.raises(ModelError, match="matches nothing"):
        regex_feature(TEXT, spans, "zzz")
    (tmp_path / "l.txt").write_text("\n".join(["1", "0"] * 15))
    lab = label_feature(tmp_path / "l.txt", 30)
    assert lab.binary and lab.values.sum() == 15
    np.save(tmp_path / "d.npy", np.arange(30.0))
    assert not label_feature(tmp_path / "d.npy", 30).binary
    with pytest.raises(ModelError, match="one number per token"):
        label_feature(tmp_path / "d.npy", 31)
    (tmp_path / "bad.txt").write_text("1 x 2")
    with pytest.raises(ModelError, match="cannot read the label file"):
        label_feature(tmp_path / "bad.txt", 3)


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize(("data", "key"), [
    (b"1 x 2", "core.labels_unreadable"),
    (b"\xff\xfe1 0 1", "core.labels_unreadable"),  # not UTF-8
    (_npy(np.array([{"a": 1}, 2, 3], dtype=object)), "core.labels_unreadable"),  # would need unpickling
    (_npy(np.array([1j, 2, 3])), "core.labels_unreadable"),
    (_npy(np.array(["1", "0", "1"])), "core.labels_unreadable"),
    (b"1 0", "core.labels_length"),
    (_npy(np.ones((3, 1))), "core.labels_length"),
    (b"1 nan 0", "core.labels_nonfinite"),
], ids=["words", "latin1", "object-npy", "complex", "strings", "short", "2-d", "nan"])
def test_uploaded_label_bytes_are_refused_with_a_catalog_key(data, key):
    with pytest.raises(ModelError) as e:
        label_values(data, "mine.txt", 3)
    assert e.value.key == key and "mine.txt" in str(e.value)


def test_uploaded_label_bytes_read_as_the_file_would(tmp_path):
    f = label_values(_npy(np.array([True, False, True])), "flags.npy", 3)
    assert f.binary and f.name == "flags" and f.values.tolist() == [1, 0, 1]
    (tmp_path / "v.txt").write_text("0.5\n-2\n3e1\n")
    a, b = label_feature(tmp_path / "v.txt", 3), label_values(b"0.5 -2\t3e1", "v.txt", 3)
    assert not a.binary and a.values.tolist() == b.values.tolist() == [0.5, -2, 30]


def planted_model() -> Model:
    """1 x 4 LSTM: unit 0 keeps c = depth (i = f = 1, g = +1 on '(' and -1 on ')'), unit 1 has
    c = +1 on an uppercase letter and -1 otherwise (f = 0, g = tanh(+-10)); units 2 and 3 random."""
    vocab = ("<unk>", *"abcXYZ ()\n")
    V, H = len(vocab), 4
    rng = np.random.default_rng(0)
    w_ih, w_hh, b = rng.normal(0, 1, (4 * H, V)), rng.normal(0, 0.5, (4 * H, H)), np.zeros(4 * H)
    i, f, g = 0, H, 2 * H  # row offsets of the gates (torch order i|f|g|o)
    for u in (0, 1):
        w_ih[[i + u, f + u, g + u, 3 * H + u]] = 0
        w_hh[[i + u, f + u, g + u, 3 * H + u]] = 0
    b[i + 0], b[f + 0] = 30, 30
    w_ih[g + 0, vocab.index("(")], w_ih[g + 0, vocab.index(")")] = 20, -20
    b[i + 1], b[f + 1], b[g + 1] = 30, -30, -10
    w_ih[g + 1, [vocab.index(c) for c in "XYZ"]] = 20
    sd = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b, "bias_hh_l0": np.zeros(4 * H)}
    return Model(LSTM.from_torch_state_dict(sd), "onehot", Tokenizer("char", vocab, "<unk>"))


def _nested(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    out, depth = [], 0
    while len(out) < n:
        r = rng.random()
        if r < 0.15 and depth < 6:
            out.append("(")
            depth += 1
        elif r < 0.3 and depth:
            out.append(")")
            depth -= 1
        else:
            out.append("abcXYZ \n"[rng.integers(8)])
    return "".join(out)


def test_the_census_finds_a_planted_bracket_depth_unit(tmp_path):
    s = IndexSettings(window=2048, warmup=0, tokens_chunk=2048, units_chunk=2)  # one window: depth from the start
    b = build_small(tmp_path, planted_model(), _nested(2000, seed=1), s)
    census = run_census(b.index)
    by = {r.feature: r for r in census.results}
    depth = by["bracket_depth"].best[0]
    assert (depth.ref.quantity, depth.ref.layer, depth.ref.unit) == ("c", 0, 0)
    assert depth.r > 0.9999
    upper = by["uppercase"].best[0]
    assert (upper.ref.quantity, upper.ref.unit) == ("c", 1) and upper.auc == 1.0
    assert by["bracket_depth"].tracking >= 1 and census.tracking["c"] >= 2
    assert "double_quotes" in census.skipped and "docstring" in census.skipped  # no quotes in this text
    md = census_markdown(census)
    assert "| bracket depth | c L0 #0 |" in md and "| uppercase | c L0 #1 | 1.000 |" in md
    ex = by["uppercase"].example
    assert ex.text[ex.highlight[0] : ex.highlight[1]].isupper()
    assert np.nanmax(by["uppercase"].example_feature) == 1


def test_auc_and_r_equal_brute_force(small):
    text, ix = small.text, small.index
    feats = builtin_features(text, ix.spans(0, ix.num_tokens))
    table = score_table(ix, feats, ("c", "h"))
    X = np.concatenate([small.ref["c"], small.ref["h"]], axis=1).astype(np.float64)  # (N, 24), unit order of refs
    for j, f in enumerate(table.features):
        y = f.values
        r = [np.corrcoef(X[:, k], y)[0, 1] for k in range(X.shape[1])]
        np.testing.assert_allclose(table.r[:, j], np.nan_to_num(r), atol=1e-9, err_msg=f.name)
        if f.binary:
            pos, neg = X[y == 1], X[y == 0]
            auc = [((pos[:, k, None] > neg[None, :, k]).mean() + 0.5 * (pos[:, k, None] == neg[None, :, k]).mean())
                   for k in range(X.shape[1])]
            np.testing.assert_allclose(table.auc[:, j], auc, atol=1e-12, err_msg=f.name)
