"""A Python source corpus from the running interpreter's standard library, with listed modules held out.

Code is where quote, indentation, bracket and line-length cells appear (Karpathy et al. 2015);
every machine with Python has this corpus. The module lists are fixed; the text itself is whatever
this interpreter ships, so a model card names the Python version it was read from.
"""
from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

from ..errors import ModelError

CORPUS_NAME = "python-stdlib"  # the value of --corpus that selects this corpus

TRAIN_MODULES = (
    "argparse", "ast", "base64", "bdb", "calendar", "cmd", "code", "codeop", "colorsys", "configparser",
    "contextlib", "copy", "csv", "dataclasses", "datetime", "dis", "enum", "fnmatch", "fractions",
    "ftplib", "functools", "getopt", "gettext", "glob", "hashlib", "heapq", "hmac", "imaplib", "inspect",
    "ipaddress", "linecache", "locale", "mailbox", "mimetypes", "netrc", "numbers", "operator", "optparse",
    "pathlib", "pdb", "pickletools", "plistlib", "poplib", "pprint", "profile", "pstats", "queue",
    "quopri", "random", "sched", "secrets", "selectors", "shlex", "shutil", "smtplib", "socketserver",
    "statistics", "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "timeit",
    "tokenize", "trace", "traceback", "typing", "uuid", "wave", "weakref", "webbrowser", "zipapp", "zipfile",
)
HELD_OUT_MODULES = ("abc", "bisect", "difflib", "uu")


def module_path(name: str) -> Path:
    p = Path(sysconfig.get_paths()["stdlib"]) / (name.replace(".", "/") + ".py")
    if not p.is_file():
        raise ModelError(f"the standard library of Python {sys.version.split()[0]} has no module {name} "
                         f"({p}); the python-stdlib corpus needs it")
    return p


def corpus_text(modules: tuple[str, ...]) -> str:
    """The modules' sources joined by a blank line, in the listed order."""
    return "\n\n".join(module_path(m).read_text(encoding="utf-8") for m in modules)


def python_version() -> str:
    return sys.version.split()[0]
