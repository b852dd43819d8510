"""The one exception type the core raises for bad models and bad input, and the sentence for everything else."""
from __future__ import annotations

# Where a user is sent when gatescope itself fails: the README section that says how to report a problem.
REPORT = "please report it as README.md's 'Reporting a problem' describes"


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


def overflowed() -> ModelError:
    """Values that became infinity or NaN on a text: said once, raised where predictions and answers are made."""
    return ModelError("the model's values overflowed to infinity or NaN on this text, so they cannot be shown",
                      "core.overflow")


def unexpected(action: str, exc: BaseException, file: str | None = None) -> str:
    """One sentence for an exception that is not a ModelError: a bug in gatescope, never shown as a traceback."""
    where = f" on {file}" if file else ""
    return (f"gatescope failed unexpectedly while {action}{where} ({type(exc).__name__}); this is a bug in "
            f"gatescope, not a problem you can fix: {REPORT}, with the file if you can share it.")
