"""Server settings: flags of `python -m app serve` and `GATESCOPE_*` environment variables."""
from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]


def read_version() -> str:
    """The installed package's version, else (a checkout run without pip install) pyproject.toml's."""
    try:
        return metadata.version("gatescope")
    except metadata.PackageNotFoundError:
        pass
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10; pyproject.toml's only "version =" line is the project's
        import re

        found = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
        return found.group(1) if found else "unknown"
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"]["version"]


VERSION = read_version()


# What `--public` (GATESCOPE_PUBLIC=1) changes, unless set explicitly: a demo on a shared network takes no
# uploads and no training (a kept model is a new file in the model directory, and a job is minutes of CPU for
# anyone who asks), smaller requests and fewer waiting ones, and listens on every address (README: Security).
PUBLIC = {"host": "0.0.0.0", "uploads": False, "train": False, "max_tokens": 500, "max_trace_mb": 128,
          "max_body_bytes": 256 << 10, "trace_queue": 32}


class Settings(BaseSettings):
    """Every knob of the server; `GATESCOPE_MAX_TOKENS=500` sets `max_tokens`, and so on."""

    model_config = SettingsConfigDict(env_prefix="GATESCOPE_", frozen=True)

    public: bool = False

    # Loopback by default: a classroom server is opened to the network only on purpose (--host 0.0.0.0).
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    model_dir: Path = ROOT / "models"
    # Corpus indexes by model id: index_dir/<id> (python -m app index --shipped writes var/indexes/<id>).
    index_dir: Path = ROOT / "var" / "indexes"
    max_tokens: int = Field(2000, ge=1, description="longest text, in tokens, that /api/trace accepts")
    # Traces of 2,000 tokens on a 2x256 model take ~25 MB each, so the cache is bounded in bytes too.
    trace_cache_entries: int = Field(64, ge=0)
    trace_cache_mb: int = Field(256, ge=0)
    # One BLAS thread per process: a trace is a loop of small products, where a second thread costs
    # more than it gives (56 vs 71 ms for 200 steps of 2x256 here), and requests run side by side anyway.
    blas_threads: int = Field(1, ge=1)
    # With numba installed, a thread loads the compiled step at start (lstm_core/jitcell.py: seconds) while the
    # first traces take the NumPy path; off, the first trace that needs it waits for it instead.
    jit_warm: bool = Field(True, description="load the compiled step in the background at start (numba only)")
    # Encoded answers: a classroom typing the teacher's sentence sends the same request forty times.
    response_cache_mb: int = Field(64, ge=0)
    # 8 MiB: a 2,000-token text is a few kB, but pasted vectors (2,000 x 100 numbers) take megabytes.
    max_body_bytes: int = Field(8 << 20, ge=1024, description="largest JSON request body")
    max_upload_bytes: int = Field(64 << 20, ge=1024, description="largest uploaded model file")
    # Where the server keeps what it makes while serving (training jobs: var/jobs/<id>/); every worker shares it.
    var_dir: Path = ROOT / "var"
    # Training in the page (app/jobs): each job a process of its own, one BLAS thread, at a lower priority
    # (nice) so the explorer stays quick while a classroom trains. A client is the browser's gs_client
    # cookie, or the address for clients without one (README: Training in the page).
    train: bool = Field(True, description="allow training jobs (POST /api/train)")
    train_jobs: int = Field(8, ge=0, description="training jobs running at once, across all workers")
    train_jobs_per_client: int = Field(2, ge=0, description="training jobs one client may run at once")
    train_max_steps: int = Field(5000, ge=1)
    train_max_seconds: float = Field(600, gt=0, description="wall time of one job's process before it is ended")
    train_max_layers: int = Field(2, ge=1)
    train_max_hidden: int = Field(64, ge=1)
    train_max_parameters: int = Field(200_000, ge=1, description="weights of one job's model")
    train_max_text_bytes: int = Field(200_000, ge=1, description="largest pasted training text (UTF-8 bytes)")
    train_nice: int = Field(10, ge=0, le=19, description="how much lower a job's CPU priority is than the server's")
    train_keep_jobs: int = Field(200, ge=1, description="finished jobs kept on disk (the oldest go first)")
    train_keep_hours: float = Field(24, gt=0, description="hours a finished job is kept on disk")
    # One trace's peak memory, estimated before it is computed (app/limits.py): 2,000 tokens of a 2 x 256
    # model take 104 MB as compact+gzip and 341 MB as json+gzip.
    max_trace_mb: int = Field(512, ge=1, description="largest estimated cost of one trace, in MB")
    # Traces run at once per process (0: one per core this process may use) and how many may wait.
    trace_slots: int = Field(0, ge=0)
    trace_queue: int = Field(128, ge=0)
    upload_slots: int = Field(1, ge=1)
    upload_queue: int = Field(4, ge=0)
    # Uploads: the largest model taken (a 100,000-word vocabulary or 20M parameters is far beyond the LSTMs
    # people inspect, and bounds what one upload may hold in memory), and the store's quota in count and bytes.
    uploads: bool = True
    upload_max_vocab: int = Field(100_000, ge=1)
    upload_max_parameters: int = Field(20_000_000, ge=1)
    upload_store_count: int = Field(32, ge=1)
    upload_store_mb: int = Field(1024, ge=1)
    # Host names answered besides IP literals and localhost (comma-separated; "*.example.org" and "*" allowed),
    # and origins whose pages may call the API (CORS; none by default).
    allowed_hosts: str = ""
    cors_origins: str = ""
    # Slow and idle clients (app/connections.py): seconds for a request's head and for each part of its body,
    # seconds a kept-alive connection may stay idle, and the most connections held (0: from the file limit).
    head_timeout: float = Field(10, gt=0)
    body_timeout: float = Field(30, gt=0)
    keep_alive: int = Field(5, ge=1)
    max_connections: int = Field(0, ge=0)
    # Memory and the event loop under load (README: Security > Load): seconds without a POST after which the C
    # heap's free pages go back to the system (app/memory.py; 0: never), and the interpreter's GIL switch
    # interval in ms: how long a trace's thread may keep the GIL from the event loop (and /api/health) before it
    # must hand it over. Python's default is 5; bench/gil_wait.py (two threads tracing and encoding beside a
    # loop sleeping 1 ms) found the loop's p99 lateness 0.36-0.90x of 5 ms's at 0.5 ms in 7 of 7 rounds, at 1 ms
    # lower in 5 of 7, for the same work per CPU second (README: Security > Measured).
    idle_trim_seconds: float = Field(1.0, ge=0)
    switch_interval_ms: float = Field(0.5, gt=0)
    # Objects alive after start-up (and at an idle trim, once 20,000 more have gathered) are frozen out of the
    # garbage collector's full collections, which hold the GIL (and the event loop) for as long as they walk them
    # (app/memory.py).
    gc_freeze: bool = True
    # Nice steps a worker thread running a trace, a step, a comparison or an export takes below the event loop
    # (app/priority.py; Linux; 0: same priority), so the loop answers first when the cores are busy.
    worker_nice: int = Field(5, ge=0, le=19)

    @model_validator(mode="before")
    @classmethod
    def _public_defaults(cls, data):
        if isinstance(data, dict) and str(data.get("public", "")).lower() in ("1", "true", "yes", "on"):
            data = {**PUBLIC, **data}
        return data

    @staticmethod
    def names(csv: str) -> list[str]:
        return [n.strip() for n in csv.split(",") if n.strip()]


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment (override in tests)."""
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]
