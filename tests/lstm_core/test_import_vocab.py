"""Vocabulary sidecars: every accepted shape, and the errors for the rest."""
from __future__ import annotations

import pytest

from lstm_core import ModelError
from lstm_core.importers.vocab import check_length, id_tokenizer, parse_vocab, read_vocab


def test_json_list_keeps_whitespace_tokens():
    tok = parse_vocab('["a", " ", "\\n", "b"]')
    assert tok.vocab == ("a", " ", "\n", "b") and tok.kind == "char"


def test_one_token_per_line_guesses_word_level_and_finds_unk():
    tok = parse_vocab("<unk>\nthe\ncat\r\nsat\n")
    assert tok.vocab == ("<unk>", "the", "cat", "sat") and tok.kind == "word" and tok.unk == "<unk>"
    assert list(tok.encode("the dog").ids) == [1, 0]


def test_token_to_id_object_and_gatescope_tokenizer_object():
    assert parse_vocab('{"b": 1, "a": 0}').vocab == ("a", "b")
    tok = parse_vocab('{"kind": "word", "vocab": ["x", "y"], "unk": null, "lower": true}')
    assert tok.kind == "word" and tok.lower


def test_kind_override(tmp_path):
    (tmp_path / "v.txt").write_text("a\nb\n")
    assert read_vocab(tmp_path / "v.txt", "word").kind == "word"


@pytest.mark.parametrize("text, match", [
    ('["a", "a"]', "twice"),
    ('{"a": 0, "b": 2}', "exactly 0..1"),
    ('[1, 2]', "list of strings"),
    ('[1, 2', "does not parse"),
    ("", "empty"),
])
def test_bad_vocabularies(text, match):
    with pytest.raises(ModelError, match=match):
        parse_vocab(text)


def test_binary_file_is_not_a_vocabulary(tmp_path):
    (tmp_path / "v.bin").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ModelError, match="not UTF-8"):
        read_vocab(tmp_path / "v.bin")


def test_lengths_and_id_tokens():
    with pytest.raises(ModelError, match="2 tokens but the model's embedding has 3 rows"):
        check_length(parse_vocab('["a", "b"]'), 3, "embedding")
    assert list(id_tokenizer(12).encode("3 11 40").ids) == [3, 11, -1]


def test_a_tokenizer_kind_without_a_vocabulary_is_refused(tmp_path):
    from safetensors.numpy import save_file

    from lstm_core import LSTM, LSTMConfig
    from lstm_core.importers import import_model

    params = LSTM.random(LSTMConfig(3, 2)).params
    save_file(params, str(tmp_path / "m.safetensors"))
    with pytest.raises(ModelError, match="needs a vocabulary"):
        import_model(tmp_path / "m.safetensors", tokenizer="char", verify=False)


def test_specials_in_any_spelling_do_not_make_a_character_vocabulary_a_word_one():
    tok = parse_vocab('{"<PAD>": 0, "<UNK>": 1, "a": 2, "b": 3}')
    assert (tok.kind, tok.unk, tok.pad) == ("char", "<UNK>", "<PAD>")
    assert tok.encode("abz").ids.tolist() == [2, 3, 1]  # z is unknown: the vocabulary's own unknown row
    bert = parse_vocab("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n")
    assert (bert.kind, bert.unk, bert.bos, bert.eos) == ("word", "[UNK]", "[CLS]", "[SEP]")
    assert parse_vocab('{"kind": "char", "vocab": ["<unk>", "a"], "unk": null}').unk is None  # said so: kept


def test_labels_as_a_json_list_an_object_or_lines(tmp_path):
    from lstm_core.importers.vocab import read_labels

    (tmp_path / "l.txt").write_text("O\nB-PER\nI-PER\n", encoding="utf-8")
    (tmp_path / "l.json").write_text('["", "\\u064e", "x"]', encoding="utf-8")
    assert read_labels(tmp_path / "l.txt") == ("O", "B-PER", "I-PER")
    assert read_labels(str(tmp_path / "l.json")) == ("", "\u064e", "x")
    assert read_labels('{"neg": 1, "pos": 0}') == ("pos", "neg")
    assert read_labels(["a", "b"]) == ("a", "b")
    for bad, words in (('["a", "a"]', "twice"), ("[1, 2]", "list of strings"), ("[]", "empty"),
                       ('{"a": 1}', "ids must be exactly")):
        with pytest.raises(ModelError, match=words):
            read_labels(bad)
