"""The one exception type the core raises for bad models and bad input."""
from __future__ import annotations


class ModelError(ValueError):
    """A model file, weight set or input that gatescope cannot use; the message says what and why.

    The errors a person in the page meets (bad step or input, the commonest upload refusals) also carry
    `key` and `params`: the id of the same sentence in the page's message catalogs (static/i18n), so the
    server can say it in the reader's language. The core never reads the catalogs; the message stays the
    English sentence (tests/app/test_i18n.py checks the catalog's English says the same).
    """

    def __init__(self, message: str, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.key, self.params = key, params
