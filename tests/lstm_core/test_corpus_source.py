"""Tokenizing a corpus (lstm_core/corpus/source.py): the ids and offsets are tokenizer.encode's, piece by piece."""
from __future__ import annotations

import numpy as np
import pytest

from lstm_core.corpus import source
from lstm_core.tokenizers import Tokenizer

TEXT = "Hello, WORLD! İstanbul ß ẞ 我来自内蒙古\n\t?? 🙂 a\u0301 \x7f zz"


@pytest.mark.parametrize("tok", [
    Tokenizer("char", tuple("abcdefghijklmnopqrstuvwxyz ,!\n"), None),  # no unknown token: id -1
    Tokenizer("char", ("?", *"abcdefghijklmnopqrstuvwxyz "), "?"),  # "?" in the text is the unknown token itself
    Tokenizer("char", tuple(sorted(set("hello,wrdistanbuß "))), None, lower=True),  # "İ".lower(): 2 characters
    Tokenizer("char", tuple(sorted(set(TEXT))), None),  # every character known
    Tokenizer("word", ("hello", ",", "world", "!"), None, lower=True),
])
def test_ids_and_spans_are_tokenizer_encodes(tok):
    want = tok.encode(TEXT)
    ids, spans = source.encode(tok, TEXT)
    assert ids.dtype == np.int64 and spans.dtype == np.int64 and spans.shape == (len(want.ids), 2)
    np.testing.assert_array_equal(ids, want.ids)
    np.testing.assert_array_equal(spans, np.asarray(want.spans, np.int64).reshape(-1, 2))


def test_empty_text():
    ids, spans = source.encode(Tokenizer("char", ("a",), None), "")
    assert ids.shape == (0,) and spans.shape == (0, 2)
