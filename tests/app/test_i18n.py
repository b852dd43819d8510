"""The two message catalogs (static/i18n/en.json, zh-CN.json): complete, used, consistent with the sources that
name their keys, and served in the request's language by the API and the page shell."""
from __future__ import annotations

import ast
import re
from html.parser import HTMLParser

import pytest

from app.i18n import LANGUAGES, PLACEHOLDER, catalog, negotiate, translate
from tests.conftest import ROOT

EN, ZH = catalog("en"), catalog("zh-CN")
PLURAL = re.compile(r"\.(zero|one|two|few|many|other)$")
# CLDR plural categories for integers, as Intl.PluralRules gives them (and app.i18n.plural follows).
CATEGORIES = {"en": {"one", "other"}, "zh-CN": {"other"}}
# Chinese messages allowed to read exactly like the English, or without a Chinese character: nothing but
# symbols, numbers and placeholders.
SAME_IN_BOTH = {"unit.char_title", "unit.hover_value", "census.auc", "census.r",  # symbols and numbers only
                "patterns.score"}
NO_CHINESE = SAME_IN_BOTH | {"timeline.at", "unit.hover", "error.list_separator"}
PLOTLY = re.compile(r"%\{[^}]*\}")
JS = sorted((ROOT / "static" / "js").rglob("*.js"))
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
PY = sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "lstm_core").rglob("*.py")])
NAMESPACES = {k.split(".")[0] for k in EN}


def base(key: str) -> str:
    return PLURAL.sub("", key)


def families(cat: dict) -> dict[str, set[str]]:
    """base key -> the plural categories it has ({""} for a plain message)."""
    out: dict[str, set[str]] = {}
    for k in cat:
        m = PLURAL.search(k)
        out.setdefault(base(k), set()).add(m.group(1) if m else "")
    return out


def test_every_key_is_in_both_languages_with_that_languages_plural_forms():
    en, zh = families(EN), families(ZH)
    assert set(en) == set(zh), f"only English: {set(en) - set(zh)}; only Chinese: {set(zh) - set(en)}"
    for key, forms in en.items():
        if forms == {""}:
            assert zh[key] == {""}, key
        else:
            assert forms == CATEGORIES["en"], (key, forms)
            assert zh[key] == CATEGORIES["zh-CN"], (key, zh[key])


def test_placeholders_are_the_same_in_both_languages():
    """Same {name}s and Plotly %{...}s; a singular form may leave out {count} ("this character")."""
    for key, zh in ZH.items():
        en = EN[key]
        assert set(PLACEHOLDER.findall(en)) == set(PLACEHOLDER.findall(zh)), (key, en, zh)
        assert sorted(PLOTLY.findall(en)) == sorted(PLOTLY.findall(zh)), (key, en, zh)
    for key in EN:
        if key.endswith(".one"):
            other = EN[base(key) + ".other"]
            assert set(PLACEHOLDER.findall(EN[key])) <= set(PLACEHOLDER.findall(other)), key


def test_nothing_is_left_untranslated():
    for key, zh in ZH.items():
        en = EN.get(key) or EN[base(key) + ".other"]
        if key not in SAME_IN_BOTH:
            assert zh != en, f"{key} reads the same in Chinese as in English: {zh!r}"
        if key not in NO_CHINESE:
            assert re.search(r"[\u4e00-\u9fff]", zh), f"{key} has no Chinese: {zh!r}"


def test_the_chinese_says_memory_cell_never_biological_cell():
    """The seed's author: cell is 记忆单元, never 细胞 (which suggests biology)."""
    assert not [k for k, v in ZH.items() if "细胞" in v]
    assert "记忆单元" in ZH["quantity.c"] and "记忆单元" in ZH["step.card.update"]


def _js_literals(text: str) -> tuple[set[str], set[str]]:
    """(every string literal, dynamic prefixes `prefix.${`) of JS source: what counts as using a key."""
    literals = set(re.findall(r"'([^'\\\n]*)'", text)) | set(re.findall(r'"([^"\\\n]*)"', text))
    for attr in [x for x in literals if ":" in x]:
        literals |= {pair.split(":")[-1].strip() for pair in attr.split(";")}  # "placeholder:key;aria-label:key"
    prefixes = set(re.findall(r"`([a-z][\w-]*\.[\w.-]*)\$\{", text))
    return literals, prefixes


def _js_named(text: str) -> set[str]:
    """Keys a JS source asks for by name: t('k') (also imported as tr), text(tag, 'k'), data-i18n attributes."""
    named = set(re.findall(r"\b(?:t|tr)\(\s*'([^']+)'", text))
    named |= set(re.findall(r"\btext\(\s*'[^']*',\s*'([^']+)'", text))
    named |= set(re.findall(r"dataset\.i18n\s*=\s*'([^']+)'", text))
    for attr in re.findall(r"i18nAttr\s*=\s*'([^']+)'", text):
        named |= {pair.split(":")[1].strip() for pair in attr.split(";")}
    return named


def _py(text: str) -> tuple[set[str], set[str], set[str]]:
    """(string literals, f-string prefixes, keys named by ApiError / ModelError / translate calls) of Python."""
    literals, prefixes, named = set(), set(), set()
    tree = ast.parse(text)
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in parts:
            literals.add(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            prefixes.add(str(node.values[0].value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            where = {"ApiError": 2, "ModelError": 1, "translate": 1}.get(node.func.id)
            args = [*node.args[where:where + 1], *(k.value for k in node.keywords if k.arg == "key")] \
                if where is not None else []
            named |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return literals, prefixes, named


def _sources() -> tuple[set[str], set[str], set[str]]:
    """(literals, dynamic prefixes, keys named at a call site) over the page, the templates and the server."""
    literals, prefixes, named = set(), set(), set()
    for path in JS:
        text = path.read_text(encoding="utf-8")
        a, b = _js_literals(text)
        literals |= a
        prefixes |= b
        named |= _js_named(text)
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r"""\bt\(\s*["']([^"']+)["']""", text))
        named |= set(re.findall(r'data-i18n="([^"]+)"', text))
        for attr in re.findall(r'data-i18n-attr="([^"]+)"', text):
            named |= {pair.split(":")[1].strip() for pair in attr.split(";")}
    for path in PY:
        a, b, c = _py(path.read_text(encoding="utf-8"))
        literals |= a
        prefixes |= b
        named |= c
    prefixes = {p for p in prefixes if p.split(".")[0] in NAMESPACES and "." in p}
    return literals | named, prefixes, named


def test_every_key_the_sources_name_exists():
    """A t('...'), data-i18n, ApiError, ModelError or translate key missing from the catalogs would show itself."""
    _, _, named = _sources()
    missing = sorted(named - {base(k) for k in EN})
    assert not missing, f"named in the sources but in no catalog: {missing}"
    assert len(named) > 150


def test_every_key_is_used():
    literals, prefixes, _ = _sources()
    unused = [k for k in families(EN) if k not in literals and not any(k.startswith(p) for p in prefixes)]
    assert not unused, f"in the catalogs but used nowhere: {unused}"
    assert {"quantity.", "order.", "model."} <= prefixes  # the dynamic families the page builds


def test_model_summaries_match_the_shipped_files():
    """The catalogs' English summary of each shipped model is its file's own description, so a retrained
    model with a new description fails here until both catalogs say the new thing."""
    from lstm_core import load_model

    for path in sorted((ROOT / "models").glob("*.safetensors")):
        key = f"model.{path.stem}.summary"
        assert key in EN and key in ZH, f"{path.name} ships without a summary in the catalogs"
        assert EN[key] == load_model(path).meta.get("description"), f"{key} differs from the file's description"


@pytest.mark.parametrize(("query", "header", "want"), [
    (None, None, "en"), (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"), (None, "zh-TW", "zh-CN"),
    (None, "en-US,zh-CN;q=0.9", "en"), (None, "fr-FR, de;q=0.7, zh;q=0.5, en;q=0.3", "zh-CN"),
    (None, "fr", "en"), (None, "zh;q=0, en", "en"), (None, "en;q=0.2, zh-Hans;q=0.8", "zh-CN"),
    ("zh-CN", "en", "zh-CN"), ("en", "zh-CN", "en"), ("xx", "zh-CN", "zh-CN"), (None, "garbage;q=x", "en"),
])
def test_negotiation(query, header, want):
    assert negotiate(query, header) == want


def test_plural_forms_and_placeholders_are_filled():
    assert translate("en", "status.tokens", count=1) == "1 token"
    assert translate("en", "status.tokens", count=3) == "3 tokens"
    assert translate("zh-CN", "status.tokens", count=1) == "1 个词元"
    # Plotly's %{...} in a message is left for Plotly; a missing parameter stays visible, never crashes.
    said = translate("en", "figure.saturation_hover", q="f", layer=0)
    assert said == "f, layer 0, unit %{customdata}<br>above 0.9: %{x:.0%} of steps<br>below 0.1: %{y:.0%}"
    assert translate("en", "hover.unit") == "unit {unit}"


def test_api_errors_answer_in_the_requests_language_and_keep_their_code(api):
    body = {"model": "tiny-char", "text": ""}
    en = api.post("/api/trace", json=body).json()
    zh = api.post("/api/trace", json=body, headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json()
    by_query = api.post("/api/trace?lang=zh-CN", json=body).json()
    assert en == {"detail": EN["error.empty_text"], "code": "empty_text"}
    assert zh == by_query == {"detail": ZH["error.empty_text"], "code": "empty_text"}
    # A core error with a key: the step beyond the text.
    r = api.post("/api/step", json={"model": "tiny-char", "text": "ab", "t": 5}, headers={"Accept-Language": "zh"})
    assert r.status_code == 422 and r.json()["code"] == "model_error"
    assert r.json()["detail"] == translate("zh-CN", "core.no_such_timestep", value=5, count=2, last=1)
    # pydantic's own phrase stays English inside a Chinese frame that says so.
    r = api.post("/api/trace", json={"model": "tiny-char", "text": 12}, headers={"Accept-Language": "zh-CN"})
    assert r.json()["code"] == "invalid_request" and r.json()["detail"].startswith("请求无效")
    assert "Input should be a valid string" in r.json()["detail"]
    r = api.get("/api/nothing", headers={"Accept-Language": "zh-CN"})
    assert r.json() == {"detail": translate("zh-CN", "error.http_404", path="/api/nothing"), "code": "http_404"}
    r = api.post("/api/trace", json={"model": "nope", "text": "a"}, headers={"Accept-Language": "zh-CN"})
    assert r.json()["detail"].startswith("没有模型 'nope'。可用的模型：bi-proj, tiny-char")


def test_an_upload_refusal_without_a_key_is_english_in_a_translated_frame(api, tmp_path):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a model")
    files = {"file": ("model.zip", buf.getvalue())}
    zh = api.post("/api/models/upload", files=files, headers={"Accept-Language": "zh-CN"}).json()
    en = api.post("/api/models/upload", files=files).json()
    assert zh["code"] == en["code"] == "import_failed"
    assert en["detail"] == "Model.zip is a zip archive but neither a .keras model nor a torch.save file."
    assert zh["detail"] == translate("zh-CN", "error.in_english", sentence=en["detail"])
    keyed = api.post("/api/models/upload", files={"file": ("w.dat", b"\x01\x02 not a model at all")},
                     headers={"Accept-Language": "zh-CN"}).json()
    assert keyed["detail"] == translate("zh-CN", "core.unknown_format", file="w.dat")


class _Marked(HTMLParser):
    """(key, text) of every element with data-i18n, and <html lang>."""

    def __init__(self):
        super().__init__()
        self.marked, self.stack, self.lang, self.attrs = [], [], None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if "data-i18n-attr" in a:
            for pair in a["data-i18n-attr"].split(";"):
                name, key = (s.strip() for s in pair.split(":"))
                self.attrs.append((key, a.get(name)))
        self.stack.append((a.get("data-i18n"), []))

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][1].append(data)

    def handle_endtag(self, tag):
        if tag in ("option", "select") and not self.stack:
            return
        key, parts = self.stack.pop()
        if key:
            self.marked.append((key, "".join(parts).strip()))
        if self.stack:
            self.stack[-1][1].extend(parts)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_shell_is_rendered_in_the_negotiated_language(api, lang):
    r = api.get("/", headers={"Accept-Language": f"{lang};q=0.9"})
    assert r.headers["content-language"] == lang and "accept-language" in r.headers["vary"].lower()
    page = _Marked()
    page.feed(r.text)
    assert page.lang == lang
    assert len(page.marked) >= 15 and len(page.attrs) >= 2
    for key, text in page.marked + page.attrs:
        assert text == catalog(lang)[key], (key, text)
    assert api.get(f"/?lang={lang}", headers={"Accept-Language": "xx"}).text == r.text


class _NotATensor:
    """Pickled inside a .pt file, it makes torch's weights-only loader refuse the file."""


def _core_errors(tmp_path, monkeypatch) -> list:
    """Every core ModelError that carries a catalog key, raised for real."""
    import numpy as np

    from lstm_core import LSTM, LSTMConfig, Model, ModelError, Tokenizer
    from lstm_core.explain import step_terms
    from lstm_core.importers import import_model, sniff
    from lstm_core.importers.heads import choose
    from lstm_core.importers.parts import check_size
    from lstm_core.importers.torch_state import read_pt
    from lstm_core.importers.vocab import check_length
    from lstm_core.predict import predict

    lstm = LSTM.random(LSTMConfig(3, 4, 1), seed=0)
    x = np.zeros((2, 3))
    tr = lstm.trace(x)
    save = tmp_path / "w.safetensors"
    from safetensors.numpy import save_file

    save_file({"foo.weight": np.zeros((2, 2), np.float32)}, str(save))
    (tmp_path / "empty.pt").write_bytes(b"")
    (tmp_path / "junk.dat").write_bytes(b"\x01\x02 junk")
    import torch

    torch.save({"x": _NotATensor()}, tmp_path / "obj.pt")
    calls = [
        lambda: step_terms(lstm, x, tr, 1, 0, 0, 0), lambda: step_terms(lstm, x, tr, 0, 1, 0, 0),
        lambda: step_terms(lstm, x, tr, 0, 0, 2, 0), lambda: step_terms(lstm, x, tr, 0, 0, 0, 4),
        lambda: Model(lstm, "vector").encode("a"), lambda: Model(lstm, "vector").trace_vectors(np.zeros((2, 5))),
        lambda: lstm.trace(np.zeros((2, 5))), lambda: lstm.trace(np.full((2, 3), np.nan)),
        lambda: sniff(tmp_path / "junk.dat"), lambda: check_size(tmp_path / "junk.dat", limit=1),
        lambda: check_size(tmp_path / "empty.pt"), lambda: check_length(Tokenizer("char", ("a", "b")), 3, "embedding"),
        lambda: read_pt(tmp_path / "obj.pt"), lambda: import_model(save, verify=False),
        lambda: choose(4, None, kind="tagger", labels=("a", "b"), pool=None, hint={}),
        lambda: predict(np.ones((1, 2), np.float32), np.full((2, 2), 3e38, np.float32),  # logits overflow
                        np.full(2, 3e38, np.float32), np.zeros(1, np.int64), 1),
    ]
    calls += _corpus_calls(tmp_path)
    errors = []
    for call in calls:
        with pytest.raises(ModelError) as e:
            call()
        errors.append(e.value)
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # `import torch` now fails
    with pytest.raises(ModelError) as e:
        read_pt(tmp_path / "obj.pt")
    return [*errors, e.value]


def _corpus_calls(tmp_path) -> list:
    """Calls that raise each keyed error of lstm_core.corpus, on a small index built here."""
    import numpy as np

    from lstm_core import save_model
    from lstm_core.corpus import (
        CorpusIndex,
        IndexSettings,
        Pattern,
        UnitRef,
        build_index,
        label_values,
        pattern_of,
        regex_feature,
    )
    from lstm_core.corpus import search as corpus_search
    from tests.lstm_core.corpus_fixtures import tiny_model

    save_model(tiny_model(), tmp_path / "tiny.safetensors")
    build_index(tmp_path / "tiny.safetensors", None, tmp_path / "ix", IndexSettings(window=64, tokens_chunk=64,
                quantities=("c",), mask_quantities=()), text="abc(d)\n" * 8, workers=1, progress=False)
    ix = CorpusIndex.open(tmp_path / "ix")
    spans = np.array([[0, 1], [1, 2]])
    values = np.array([[0.9, 0.1], [0.8, 0.2]])
    return [
        lambda: regex_feature("ab", spans, "(x"), lambda: regex_feature("ab", spans, "q"),
        lambda: regex_feature("a" * 30_000 + "b", np.array([[0, 30_001]]), "(a|aa)+$", timeout=1e-6),
        lambda: label_values(b"1 x", "l.txt", 2), lambda: label_values(b"1 0 1", "l.txt", 2),
        lambda: label_values(b"1 inf", "l.txt", 2),
        lambda: pattern_of(values, 1, 3, 0.5, "c"), lambda: pattern_of(values, 0, 1, 0, "c"),
        lambda: pattern_of(values, 0, 2, 0.95, "c"),
        lambda: corpus_search(ix, Pattern("c", 0, 0, 60_000.0, np.array([0, 1]), 1)),
        lambda: ix.column(UnitRef("h", 0, 0, 0)), lambda: ix.column(UnitRef("c", 2, 0, 0)),
        lambda: ix.column(UnitRef("c", 0, 1, 0)), lambda: ix.column(UnitRef("c", 0, 0, 6)),
    ]


def test_keyed_core_errors_read_in_the_catalog_as_the_core_says_them(tmp_path, monkeypatch):
    """The catalog's English is the core's own sentence (so the CLI and the page agree), and every keyed
    error in lstm_core is raised here."""
    from app.errors import sentence

    errors = _core_errors(tmp_path, monkeypatch)
    for e in errors:
        assert e.key, str(e)
        en = translate("en", e.key, **e.params)
        # sentence() capitalises a leading file name ("Junk.dat"); the catalog leaves it as it is.
        assert en[:1].lower() + en[1:] == sentence(str(e))[:1].lower() + sentence(str(e))[1:], e.key
        zh = translate("zh-CN", e.key, **e.params)
        assert "{" not in PLACEHOLDER.sub("", zh) or "{" in str(e), zh
    named, prefixes = set(), set()
    for path in (ROOT / "lstm_core").rglob("*.py"):
        _, p, n = _py(path.read_text(encoding="utf-8"))
        named |= n
        prefixes |= {x for x in p if x.startswith("core.")}
    keyed = {k for k in families(EN) if k.startswith("core.")}
    assert named | {k for k in keyed if any(k.startswith(p) for p in prefixes)} == keyed
    assert {e.key for e in errors} == keyed, "a keyed core error this test does not raise"
