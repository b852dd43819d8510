"""`python -m app serve` (also plain `python -m app`): run the server with uvicorn."""
from __future__ import annotations

import argparse
import os

NAME = "serve"
HELP = "serve the page and the API (default: http://127.0.0.1:8000 with the models in models/)"

# flag -> setting; each also reads GATESCOPE_<SETTING> from the environment
FLAGS = {"host": "host", "port": "port", "models": "model_dir", "indexes": "index_dir", "workers": "workers",
         "max_tokens": "max_tokens", "public": "public"}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 opens it "
                   "to the network) [GATESCOPE_HOST]")
    p.add_argument("--port", type=int, help="port (default 8000) [GATESCOPE_PORT]")
    p.add_argument("--models", metavar="DIR", help="model directory (default: models/) [GATESCOPE_MODEL_DIR]")
    p.add_argument("--indexes", metavar="DIR", help="corpus indexes, one directory per model id (default: "
                   "var/indexes/) [GATESCOPE_INDEX_DIR]")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default 1) [GATESCOPE_WORKERS]")
    p.add_argument("--max-tokens", type=int, metavar="N", help="longest text /api/trace accepts (default 2000) "
                   "[GATESCOPE_MAX_TOKENS]")
    p.add_argument("--public", action="store_true", default=None,
                   help="a demo on a shared network: listen on every address, no uploads, shorter texts and "
                   "smaller requests (README: Security) [GATESCOPE_PUBLIC]")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])


def run(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from app.settings import Settings, get_settings

    # Flags become environment variables so that every worker process reads the same settings.
    for flag, key in FLAGS.items():
        v = getattr(args, flag, None)
        if v is not None:
            os.environ[f"GATESCOPE_{key.upper()}"] = str(v)
    get_settings.cache_clear()
    try:
        s: Settings = get_settings()
    except ValidationError as e:
        print(f"error: invalid setting: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}")
        return 2
    print(f"gatescope: http://{s.host}:{s.port}/ with models from {s.model_dir} ({s.workers} worker(s))"
          + (f" in public mode (uploads {'on' if s.uploads else 'off'}, texts up to {s.max_tokens:,} tokens)"
             if s.public else ""))
    from app.connections import connection_limits

    # GuardedH11 bounds how long a request head may take and how many connections are held (app/connections.py);
    # limit_concurrency is uvicorn's own backstop above that cap.
    cap, backlog = connection_limits(s.max_connections)
    uvicorn.run("app.main:create_app", factory=True, host=s.host, port=s.port, workers=s.workers,
                log_level=args.log_level, timeout_graceful_shutdown=5, http="app.connections:GuardedH11",
                timeout_keep_alive=s.keep_alive, limit_concurrency=cap + backlog, backlog=backlog)
    return 0
