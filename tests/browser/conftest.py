"""Fixtures for the browser tests: small random models, a live server, and Debian's Chromium via Playwright."""
from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.testing import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server
from lstm_core import LSTM, LSTMConfig, Model, Tokenizer, save_model
from tests.conftest import IN_CI, ROOT

ARTIFACTS = ROOT / "tests" / "artifacts"
MODELS = ROOT / "models"
ENGLISH = ("The quick brown fox jumps over the lazy dog. A teacher types a sentence, and the class watches "
           "every gate open and shut: forget, input, output! (What is in brackets?) 0123456789\n")


def need_model(name: str) -> None:
    """A test on shipped model `name` skips when models/<name>.safetensors is absent (fails under CI=true)."""
    if not (MODELS / f"{name}.safetensors").exists():
        msg = f"models/{name}.safetensors is not shipped yet"
        if IN_CI:
            pytest.fail(msg + " and CI=true requires it")
        pytest.skip(msg)


def strong(cfg: LSTMConfig, seed: int, gain: float = 4.0) -> LSTM:
    """Random weights scaled up so that some gates saturate, as trained ones do (torch's init rarely does)."""
    lstm = LSTM.random(cfg, seed=seed)
    return LSTM(cfg, {k: v * gain for k, v in lstm.params.items()})


def make_models(directory: Path) -> None:
    """An English char model (two layers, 16 units, with a decoder) and a bidirectional word model."""
    rng = np.random.default_rng(5)
    char = Tokenizer.build(ENGLISH, "char", unk=True)
    V = len(char)
    model = Model(strong(LSTMConfig(V, 16, 2), seed=11), "onehot", char, None,
                  rng.normal(0, 2.0, (V, 16)).astype(np.float32), rng.normal(0, 0.5, V).astype(np.float32),
                  {"name": "English chars (random)", "description": "random weights for tests"})
    save_model(model, directory / "english-char.safetensors")
    word = Tokenizer.build(ENGLISH, "word", unk=True)
    W = len(word)
    bi = Model(strong(LSTMConfig(W, 6, 1, bidirectional=True), seed=12), "onehot", word, None,
               rng.normal(0, 2.0, (W, 12)).astype(np.float32), rng.normal(0, 0.5, W).astype(np.float32),
               {"name": "English words, both directions (random)"})
    save_model(bi, directory / "words-bi.safetensors")


def serve_models(tmp_path_factory: pytest.TempPathFactory, name: str, make) -> Iterator[str]:
    """Base URL of a real `python -m app serve` on a free port, serving what `make(directory)` writes."""
    d = tmp_path_factory.mktemp(name)
    make(d)
    base, proc = start_server(d)
    yield base
    stop_server(proc)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real `python -m app serve` on a free port, serving the models made above."""
    yield from serve_models(tmp_path_factory, "browser-models", make_models)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium driven by Playwright; never lets Playwright download a browser of its own."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("/usr/bin/chromium is missing and CI=true requires the browser tests to run")
        pytest.skip("/usr/bin/chromium is not installed (apt-get install -y --no-install-recommends chromium)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Page:
    """A Playwright page on the explorer, recording console errors and uncaught exceptions."""

    def __init__(self, page, base: str):
        self.page = page
        self.base = base
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def wait(self, predicate: str, arg=None, timeout: float = 30.0) -> None:
        """Wait until the JavaScript function `predicate` (e.g. "t => ...") returns true. Polled through
        page.evaluate, which the page's Content-Security-Policy allows; Playwright's wait_for_function compiles
        its argument inside the page, which a CSP without 'unsafe-eval' forbids."""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(f"arg => ({predicate})(arg)", arg):
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:g} s for {predicate}")
            self.page.wait_for_timeout(50)

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base}/{query}")
        self.wait("() => window.gatescope && window.gatescope.rendered !== null")
        self.settle()

    def type(self, text: str, delay: float = 0) -> None:
        """Replace the text box's content by typing `text`, then wait until the page has drawn exactly it."""
        box = self.page.locator("#text")
        box.fill("")
        box.press_sequentially(text, delay=delay)
        self.wait_drawn(text)

    def wait_drawn(self, text: str) -> None:
        """Wait until the page shows `text`, including the views drawn when the browser is idle."""
        self.wait("t => window.gatescope.rendered && window.gatescope.rendered.text === t", text)
        self.settle()

    def settle(self) -> None:
        """Wait until the views off screen (drawn when the browser is idle) have caught up."""
        self.page.evaluate("window.gatescope.idle()")

    def shot(self, name: str, selector: str | None = None) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        # The sticky header would cover the top of an element scrolled into view.
        self.page.add_style_tag(content=".sticky { position: static !important; }")
        (self.page.locator(selector) if selector else self.page).screenshot(path=str(path))
        return path

    def api(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(self.base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())


def new_context(browser, enforce_csp: bool = False, **options):
    """A browser context for a test (Playwright's new_context options: viewport, locale...).

    The server's Content-Security-Policy forbids evaluating strings, which Playwright's wait_for_function does
    inside the page; so by default it is bypassed, and tests/browser/test_security.py runs the page under it
    (with Page.wait, which does not need eval)."""
    context = browser.new_context(bypass_csp=not enforce_csp, **options)
    # Waits, not speed checks (a test never asserts a time): on the shared 2-core machine at load 20 to 30 the
    # page takes 60 s to load, twice Playwright's default of 30 s.
    context.set_default_timeout(180_000)
    return context


def open_page(browser, base: str, enforce_csp: bool = False) -> Iterator[Page]:
    """A fresh page (1600x1000, like a projector) on `base`; fails the test on any console error."""
    context = new_context(browser, enforce_csp, viewport={"width": 1600, "height": 1000})
    page = Page(context.new_page(), base)
    yield page
    context.close()
    assert page.errors == [], f"console errors: {page.errors}"


@pytest.fixture()
def gs(browser, server) -> Iterator[Page]:
    """A fresh page on the shared live server."""
    yield from open_page(browser, server)


@pytest.fixture(scope="session")
def shipped() -> Iterator[str]:
    """Base URL of a live server on the shipped models (models/): the lessons' counter, brackets, remember..."""
    base, proc = start_server(MODELS)
    yield base
    stop_server(proc)


@pytest.fixture()
def shipped_page(browser, shipped) -> Iterator[Page]:
    """A fresh page on the shipped models."""
    yield from open_page(browser, shipped)
