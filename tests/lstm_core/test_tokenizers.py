"""Tokenizers keep every typed character: one token per code point (char level), OOV flagged never dropped."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core import LSTM, LSTMConfig, Model, ModelError, Tokenizer

# Chinese, an emoji with a skin-tone modifier (2 code points), a ZWJ family (5), e + combining acute (2)
HARD = "我来自内蒙古 👍🏽 👨\u200d👩\u200d👧 caf e\u0301!"


def assert_lines_up(text: str, toks) -> None:
    assert len(toks.tokens) == len(toks.ids) == len(toks.spans)
    for tok, (a, b) in zip(toks.tokens, toks.spans, strict=True):
        assert text[a:b] == tok, f"span {a}..{b} is {text[a:b]!r}, token is {tok!r}"


def test_char_level_is_one_token_per_code_point() -> None:
    tok = Tokenizer.build("abc ", "char")
    toks = tok.encode(HARD)
    assert toks.tokens == ["我", "来", "自", "内", "蒙", "古", " ", "\U0001f44d", "\U0001f3fd", " ",
                           "\U0001f468", "\u200d", "\U0001f469", "\u200d", "\U0001f467", " ",
                           "c", "a", "f", " ", "e", "\u0301", "!"]
    assert "".join(toks.tokens) == HARD
    assert toks.spans == [(k, k + 1) for k in range(len(HARD))]
    assert_lines_up(HARD, toks)


def test_char_oov_is_flagged_and_mapped_to_unk_never_dropped() -> None:
    tok = Tokenizer.build("abc e", "char")
    assert tok.unk == "<unk>" and tok.vocab[0] == "<unk>"
    text = "a我b👍🏽e\u0301"
    toks = tok.encode(text)
    assert toks.tokens == ["a", "我", "b", "\U0001f44d", "\U0001f3fd", "e", "\u0301"]
    assert toks.oov == [1, 3, 4, 6]
    unk = tok.vocab.index("<unk>")
    assert toks.ids.tolist() == [tok.vocab.index("a"), unk, tok.vocab.index("b"), unk, unk, tok.vocab.index("e"), unk]
    assert toks.ids.dtype == np.int64


def test_char_vocabulary_with_chinese_and_emoji_has_no_oov() -> None:
    tok = Tokenizer.build(HARD, "char")
    toks = tok.encode(HARD)
    assert toks.oov == []
    assert tok.decode(toks.ids) == HARD


def test_without_unk_token_oov_gets_id_minus_one() -> None:
    tok = Tokenizer.build("abc", "char", unk=False)
    assert tok.unk is None and "<unk>" not in tok.vocab
    toks = tok.encode("a蒙c")
    assert toks.ids.tolist() == [0, -1, 2] and toks.oov == [1] and toks.tokens == ["a", "蒙", "c"]


def test_word_level_words_and_punctuation() -> None:
    text = "Hello, world!  Don't stop... 我来自内蒙古。x2"
    tok = Tokenizer.build("hello world don't stop . , !", "word", lower=True)
    toks = tok.encode(text)
    assert toks.tokens == ["Hello", ",", "world", "!", "Don't", "stop", ".", ".", ".", "我来自内蒙古", "。", "x2"]
    assert_lines_up(text, toks)
    assert toks.oov == [9, 10, 11]
    assert toks.tokens[0] == "Hello" and toks.ids[0] == tok.vocab.index("hello")  # shown as typed, looked up lowered
    assert all(toks.ids[k] == tok.vocab.index("<unk>") for k in toks.oov)


def test_word_level_is_case_sensitive_unless_lower() -> None:
    tok = Tokenizer.build("the cat", "word")
    assert tok.encode("The cat").oov == [0]
    assert Tokenizer.build("the cat", "word", lower=True).encode("The cat").oov == []


def test_the_unk_token_itself_typed_is_flagged() -> None:
    tok = Tokenizer("word", ("UNK", "cat"), unk="UNK")
    toks = tok.encode("UNK cat")
    assert toks.oov == [0] and toks.ids.tolist() == [0, 1]


def test_build_with_max_size_keeps_the_most_frequent() -> None:
    tok = Tokenizer.build("aaaa bbb cc d", "char", max_size=4)
    assert tok.vocab == ("<unk>", " ", "a", "b")
    assert len(tok) == 4


def test_json_round_trip() -> None:
    tok = Tokenizer.build(HARD, "word", lower=True)
    assert Tokenizer.from_json(tok.to_json()) == tok


@pytest.mark.parametrize("args,words", [
    (("char", ()), "empty"),
    (("char", ("a", "a")), "twice"),
    (("char", ("a",), "<unk>"), "unknown token"),
    (("bpe", ("a",)), "tokenizer kind"),
])
def test_invalid_tokenizers(args, words: str) -> None:
    with pytest.raises(ModelError, match=words):
        Tokenizer(*args)


@pytest.mark.parametrize("kind", ["onehot", "embedding"])
def test_unknown_id_is_a_zero_input_vector(kind: str) -> None:
    tok = Tokenizer.build("abc", "char", unk=False)
    E = 3 if kind == "onehot" else 4
    emb = np.arange(12, dtype=np.float32).reshape(3, 4) + 1 if kind == "embedding" else None
    model = Model(LSTM.random(LSTMConfig(E, 2), seed=0), kind, tok, embedding=emb)
    x = model.inputs(tok.encode("a蒙c").ids)
    assert x.shape == (3, E) and x.dtype == np.float32
    assert not x[1].any(), "an unknown character must be fed as zeros"
    want = np.eye(3)[[0, 2]] if kind == "onehot" else emb[[0, 2]]
    np.testing.assert_array_equal(x[[0, 2]], want)


def test_lowercase_char_vocabulary_has_no_dead_entries() -> None:
    tok = Tokenizer.build("ABC abc", "char", lower=True)
    assert tok.vocab == ("<unk>", " ", "a", "b", "c")
    toks = tok.encode("AbC")
    assert toks.tokens == ["A", "b", "C"] and toks.oov == [] and tok.decode(toks.ids) == "abc"


def test_decode_refuses_ids_outside_the_vocabulary() -> None:
    tok = Tokenizer.build("abc", "char", unk=False)
    assert tok.decode(np.array([0, 2, 1])) == "acb"
    for bad in (-1, 3):
        with pytest.raises(ModelError, match=f"token id {bad} is outside the vocabulary"):
            tok.decode([0, bad])


@pytest.mark.parametrize("vocab, want", [
    (["<PAD>", "<UNK>", "a", "b"], {"unk": "<UNK>", "pad": "<PAD>", "bos": None, "eos": None}),
    (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"], {"unk": "[UNK]", "pad": "[PAD]", "bos": "[CLS]", "eos": "[SEP]"}),
    (["<unk>", "<s>", "</s>", "<pad>", "x"], {"unk": "<unk>", "pad": "<pad>", "bos": "<s>", "eos": "</s>"}),
    (["<BOS>", "<EOS>", "x", "[CLS]"], {"unk": None, "pad": None, "bos": "<BOS>", "eos": "<EOS>"}),
    (["a", "b", "unk", "s"], {"unk": None, "pad": None, "bos": None, "eos": None}),  # bare words are not specials
])
def test_special_tokens_in_their_usual_spellings(vocab, want) -> None:
    from lstm_core.tokenizers import special_tokens

    assert special_tokens(vocab) == want


def test_wrap_puts_begin_and_end_tokens_around_the_text() -> None:
    tok = Tokenizer("char", ("<s>", "</s>", "<unk>", "a", "b"), "<unk>", bos="<s>", eos="</s>")
    assert tok.can_wrap
    toks = tok.encode("ab?", wrap=True)
    assert toks.tokens == ["<s>", "a", "b", "?", "</s>"]
    assert toks.ids.tolist() == [0, 3, 4, 2, 1]
    assert toks.oov == [3]  # the wrapped tokens are in the vocabulary; "?" is not
    assert toks.spans == [(0, 0), (0, 1), (1, 2), (2, 3), (3, 3)]
    assert tok.encode("ab").tokens == ["a", "b"]  # unwrapped unless asked
    only_end = Tokenizer("char", ("a", "<eos>"), eos="<eos>")
    assert only_end.encode("a", wrap=True).tokens == ["a", "<eos>"]
    with pytest.raises(ModelError, match="no begin or end token"):
        Tokenizer.build("ab", "char").encode("ab", wrap=True)


def test_files_before_special_roles_recognise_them_but_an_explicit_null_stays() -> None:
    d = {"kind": "char", "vocab": ["<UNK>", "<s>", "a"], "unk": "<UNK>"}  # no pad/bos/eos keys: an older file
    assert Tokenizer.from_json(d).bos == "<s>"
    assert Tokenizer.from_json({**d, "bos": None}).bos is None
    with pytest.raises(ModelError, match="begin token"):
        Tokenizer.from_json({**d, "bos": "<nope>"})
