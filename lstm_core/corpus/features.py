"""Per-token features to probe units with: built-in ones read off the text, a regex, a label file.

Every feature is the state after reading the token (its last character), which is what a
left-to-right LSTM's c and h at that token can know. Strings, comments and brackets follow Python's
lexical rules, by one regular expression: a one-line string is '...' or "..." (backslash escapes;
it ends at the line's end if not closed); a triple-quoted string ('''...''' or \"\"\"...\"\"\", usually a
docstring) is its own feature, since it holds prose over many lines; a comment runs from # outside
a string to the end of the line; brackets inside strings and comments do not count. A string's
opening quote is inside it, its closing quote is not. In prose the apostrophe of "'tis" opens a
single-quoted "string" that runs to the closing apostrophe or the end of the line: these are code
features.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ..errors import ModelError

BUILTIN = {
    "double_quotes": "inside a one-line \"...\" string",
    "single_quotes": "inside a one-line '...' string",
    "docstring": "inside a triple-quoted string (\"\"\"...\"\"\" or '''...''')",
    "bracket_depth": "open ( [ { minus closed ) ] } so far, outside strings and comments",
    "indentation": "leading spaces and tabs of the line read so far (each counts 1; 0 on a newline)",
    "line_position": "characters read since the last newline (0 on the newline itself)",
    "comment": "inside a # comment",
    "uppercase": "an uppercase letter",
    "word_start": "the first character of a word (\\w after a non-\\w)",
}
BINARY = {"double_quotes", "single_quotes", "docstring", "comment", "uppercase", "word_start"}

_LEX = re.compile(r'''
    (?P<dq3>"{3}(?:\\.|[^\\])*?(?:"{3}|\Z))
  | (?P<sq3>'{3}(?:\\.|[^\\])*?(?:'{3}|\Z))
  | (?P<dq>"(?:\\.|[^"\\\n])*(?:"|(?=\n)|\Z))
  | (?P<sq>'(?:\\.|[^'\\\n])*(?:'|(?=\n)|\Z))
  | (?P<comment>\#[^\n]*)
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
''', re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Feature:
    name: str
    values: NDArray  # (N,) float32, one per token
    binary: bool
    description: str


def char_features(text: str) -> dict[str, NDArray]:
    """Every built-in feature for every character of `text`, (len(text),) each."""
    C = len(text)
    cp = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    f = {k: np.zeros(C, np.float32) for k in ("double_quotes", "single_quotes", "docstring", "comment")}
    delta = np.zeros(C, np.float32)
    for m in _LEX.finditer(text):
        kind, (s, e) = m.lastgroup, m.span()
        if kind in ("open", "close"):
            delta[s] = 1 if kind == "open" else -1
        elif kind == "comment":
            f["comment"][s:e] = 1
        else:
            q = m.group()[: 3 if kind.endswith("3") else 1]
            closed = e - s >= 2 * len(q) and m.group().endswith(q)
            name = "docstring" if len(q) == 3 else "double_quotes" if q == '"' else "single_quotes"
            f[name][s : e - len(q) * closed] = 1
    f["bracket_depth"] = np.cumsum(delta, dtype=np.float32)
    pos = np.arange(C)
    newline = cp == 10
    line_start = np.maximum.accumulate(np.where(newline, pos, -1))  # last newline at or before each char
    f["line_position"] = (pos - line_start).astype(np.float32)
    blank = ((cp == 32) | (cp == 9)) & ~newline
    seen = np.cumsum(~blank & ~newline)  # visible characters so far
    lead = blank & (seen == seen[np.maximum(line_start, 0)] * (line_start >= 0))  # still in the leading blanks
    line = np.cumsum(newline)
    big = C + 1
    f["indentation"] = (np.maximum.accumulate(np.where(lead, pos - line_start, 0) + line * big) - line * big
                        ).astype(np.float32)
    chars, inverse = np.unique(cp, return_inverse=True)
    word = np.array([chr(c).isalnum() or c == 95 for c in chars])[inverse]
    f["uppercase"] = np.array([chr(c).isupper() for c in chars], np.float32)[inverse]
    f["word_start"] = (word & ~np.concatenate(([False], word[:-1]))).astype(np.float32)
    return f


def builtin_features(text: str, spans: NDArray) -> list[Feature]:
    """The built-in features of every token ((N, 2) spans into `text`): the state after its last character."""
    per_char = char_features(text)
    last = spans[:, 1] - 1
    return [Feature(k, per_char[k][last], k in BINARY, d) for k, d in BUILTIN.items()]


def regex_feature(text: str, spans: NDArray, pattern: str, name: str | None = None,
                  timeout: float | None = None) -> Feature:
    """1 for every token that overlaps a match of `pattern` in the text, else 0.

    With `timeout` (seconds; a server matching a stranger's pattern) the third-party `regex` module
    matches instead of `re`: it can stop a pattern that backtracks without end, which `re` cannot."""
    if timeout is None:
        compiled, errors, kw = re.compile, (re.error,), {}
    else:
        import regex

        compiled, errors, kw = regex.compile, (regex.error, re.error), {"timeout": timeout}
    try:
        rx = compiled(pattern)
    except errors as e:
        raise ModelError(f"the regular expression {pattern!r} does not compile: {e}", "core.regex_bad",
                         pattern=repr(pattern), reason=str(e)) from None
    marked = np.zeros(len(text) + 1, np.int64)
    try:
        for m in rx.finditer(text, **kw):
            if m.end() > m.start():
                marked[m.start()] += 1
                marked[m.end()] -= 1
    except TimeoutError:
        raise ModelError(f"the regular expression {pattern!r} took more than {timeout} s over the corpus; "
                         "simplify it", "core.regex_slow", pattern=repr(pattern), seconds=timeout) from None
    inside = np.concatenate(([0], np.cumsum(np.cumsum(marked)[:-1] > 0)))  # characters inside a match so far
    values = (inside[spans[:, 1]] > inside[spans[:, 0]]).astype(np.float32)
    if not values.any():
        raise ModelError(f"the regular expression {pattern!r} matches nothing in the corpus; "
                         "a probe needs tokens where it is on", "core.regex_nothing", pattern=repr(pattern))
    return Feature(name or f"regex {pattern}", values, True, f"tokens inside a match of {pattern!r}")


def label_feature(path: str | os.PathLike, tokens: int, name: str | None = None) -> Feature:
    """A per-token label file: a .npy array, or numbers separated by whitespace (one per line)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelError(f"cannot read the label file {path.name}: {e.strerror}; give one number per token",
                         "core.labels_unreadable", file=path.name, reason=str(e.strerror)) from None
    return label_values(data, path.name, tokens, name)


def label_values(data: bytes, filename: str, tokens: int, name: str | None = None) -> Feature:
    """The label file `filename` whose bytes are `data` (what a page uploads): a .npy array (recognised by
    its magic bytes; never unpickled), else UTF-8 numbers separated by whitespace, one per token."""
    try:
        if data.startswith(b"\x93NUMPY"):
            values = np.load(io.BytesIO(data), allow_pickle=False)
        else:
            values = np.array(data.decode("utf-8").split(), dtype=np.float64)
    except (ValueError, UnicodeDecodeError, EOFError) as e:
        reason = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ModelError(f"cannot read the label file {filename}: {reason}; give one number per token",
                         "core.labels_unreadable", file=filename, reason=reason) from None
    values = np.asarray(values)
    if values.dtype == bool:
        values = values.astype(np.float32)
    if not np.issubdtype(values.dtype, np.number) or np.issubdtype(values.dtype, np.complexfloating):
        reason = f"{values.dtype} values are not numbers"
        raise ModelError(f"cannot read the label file {filename}: {reason}; give one number per token",
                         "core.labels_unreadable", file=filename, reason=reason)
    if values.shape != (tokens,):
        raise ModelError(f"the label file {filename} holds {values.size} values of shape {values.shape}; "
                         f"the index has {tokens} tokens: give one number per token", "core.labels_length",
                         file=filename, count=values.size, shape=str(values.shape), tokens=tokens)
    if not np.isfinite(values).all():
        raise ModelError(f"the label file {filename} contains NaN or infinite values; give a finite number per "
                         "token", "core.labels_nonfinite", file=filename)
    binary = bool(np.isin(values, (0, 1)).all())
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return Feature(name or stem or "labels", values.astype(np.float32), binary, f"labels from {filename}")
