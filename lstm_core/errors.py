"""The one exception type the core raises for bad models and bad input, and the sentence for everything else."""
from __future__ import annotations

# Where a user is sent when gatescope itself fails: the README section that says how to report a problem.
REPORT = "please report it as README.md's 'Reporting a problem' describes"


class ModelError(ValueError):
    """A model file, weight set or input that gatescope cannot use; the message says what and why."""


def unexpected(action: str, exc: BaseException, file: str | None = None) -> str:
    """One sentence for an exception that is not a ModelError: a bug in gatescope, never shown as a traceback."""
    where = f" on {file}" if file else ""
    return (f"gatescope failed unexpectedly while {action}{where} ({type(exc).__name__}); this is a bug in "
            f"gatescope, not a problem you can fix: {REPORT}, with the file if you can share it.")
