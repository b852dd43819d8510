"""The training API's limits and refusals (through the TestClient: nothing here starts a process), and the
pieces under it: the event log, the liveness lock, the presets' parameter count and command lines."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.commands import build_parser
from app.commands.train import train_config
from app.i18n import translate
from app.jobs import events, presets, store
from app.settings import Settings, get_settings
from lstm_core.tasks import TASKS
from lstm_core.train.model_grad import NetSpec, init_params

TEXT = "".join(f"line {k}: the cat sat on the mat and the dog ran far away.\n" for k in range(40))


def _client(tmp_path: Path, **settings) -> Iterator:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from app.main import create_app

    app = create_app()
    s = Settings(model_dir=tmp_path / "models", var_dir=tmp_path / "var", **settings)
    app.dependency_overrides[get_settings] = lambda: s
    with TestClient(app) as c:
        yield c


@pytest.fixture()
def train_api(tmp_path: Path) -> Iterator:
    """A TestClient whose jobs directory is private, with a small text limit and parameter limit."""
    yield from _client(tmp_path, train_max_text_bytes=3000, train_max_parameters=1000, train_jobs=2,
                       train_jobs_per_client=1)


@pytest.mark.parametrize(("body", "status", "code", "key", "params"), [
    ({"task": "counting", "layers": 3}, 413, "too_many_layers", "error.train_layers", {"got": "3", "max": "2"}),
    ({"task": "counting", "hidden": 65}, 413, "too_many_units", "error.train_hidden", {"got": "65", "max": "64"}),
    ({"task": "counting", "steps": 5001}, 413, "too_many_steps", "error.train_steps", {"got": "5,001", "max": "5,000"}),
    ({"task": "counting", "hidden": 16}, 413, "too_many_parameters", "error.train_parameters",
     {"got": "1,557", "max": "1,000"}),
    ({"task": "text", "text": TEXT * 2}, 413, "text_too_long", "error.train_text_long",
     {"got": f"{len(TEXT) * 2:,}", "max": "3,000"}),
    ({"task": "text", "text": TEXT[:300]}, 422, "text_too_short", "error.train_text_short",
     {"got": "300", "need": "1,227"}),
    ({"task": "juggling"}, 422, "unknown_task", "error.train_task",
     {"got": "'juggling'", "tasks": ", ".join([*TASKS, "text"])}),
    ({"task": "counting", "text": "abc"}, 422, "text_with_task", "error.train_text_with_task", {"task": "counting"}),
])
def test_each_limit_is_refused_with_its_sentence_in_both_languages(train_api, tmp_path, body, status, code, key,
                                                                   params):
    r = train_api.post("/api/train", json=body)
    assert (r.status_code, r.json()) == (status, {"code": code, "detail": translate("en", key, **params)})
    zh = train_api.post("/api/train", json=body, headers={"Accept-Language": "zh-CN"}).json()
    assert zh == {"code": code, "detail": translate("zh-CN", key, **params)} and zh["detail"] != r.json()["detail"]
    assert store.every(tmp_path / "var" / "jobs") == []  # nothing was started


def test_the_1557_weights_above_are_what_the_trainer_builds():
    """presets.parameters against the parameter dict the trainer itself initialises."""
    for task, hidden, layers in (("counting", 16, 1), ("hometown", 32, 2), ("brackets", 64, 2)):
        V = len(TASKS[task].tokenizer)
        built = init_params(NetSpec(V, hidden, layers), seed=0)
        assert presets.parameters(V, hidden, layers) == sum(v.size for v in built.values()), task
    assert presets.parameters(5, 16, 1) == 1557


def test_the_shortest_text_accepted_is_the_shortest_the_trainer_takes(tmp_path):
    """1,227 above: the trainer's own check (held-out split, batch x window) finds the same boundary."""
    from lstm_core import ModelError
    from lstm_core.train.config import TrainConfig
    from lstm_core.train.loop import make_source

    p = presets.PRESETS["text"]

    def takes(n: int) -> bool:
        path = tmp_path / "t.txt"
        path.write_text((TEXT * 3)[:n], encoding="utf-8")
        try:
            make_source(TrainConfig(corpus=str(path), batch=p.batch, **p.extra))
        except ModelError:
            return False
        return True

    shortest = next(n for n in range(1000, 1500) if takes(n))
    assert presets.min_text(p, p.batch) == shortest == 1227


def _fake_running(jobs: Path, client: str) -> int:
    """A job directory that counts as running: its status says so and this test process holds its lock."""
    job = store.new_job(jobs)
    job.update(client=client, created=0)
    events.write_json(job.status_json, {"state": "running", "step": 1})
    fd = os.open(job.lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_jobs_per_client_then_per_server_are_429_with_retry_after(train_api, tmp_path):
    train_api.cookies.set("gs_client", "my-browser-id-0123456789")
    me = "cookie:my-browser-id-0123456789"
    held = [_fake_running(tmp_path / "var" / "jobs", me)]
    try:
        r = train_api.post("/api/train", json={"task": "counting"})
        assert r.status_code == 429 and r.headers["retry-after"] == "30"
        assert r.json() == {"code": "client_busy", "detail": translate("en", "error.train_client_busy", count=1)}
        held.append(_fake_running(tmp_path / "var" / "jobs", "cookie:someone-else"))
        r = train_api.post("/api/train", json={"task": "counting"}, headers={"Accept-Language": "zh-CN"})
        assert r.status_code == 429
        assert r.json() == {"code": "server_busy", "detail": translate("zh-CN", "error.train_busy", count=2)}
    finally:
        for fd in held:
            os.close(fd)
    # Their processes "died" (the locks are free): the next reader marks them failed, and nothing runs.
    for job in store.every(tmp_path / "var" / "jobs"):
        st = job.status()
        assert st["state"] == "failed" and st["detail"] == translate("en", "train.failed.vanished")


def test_training_off_unknown_jobs_and_odd_ids(tmp_path):
    for c in _client(tmp_path, train=False):
        assert c.get("/api/train").json()["enabled"] is False
        r = c.post("/api/train", json={"task": "counting"})
        assert (r.status_code, r.json()["code"]) == (403, "training_off")
        for bad in ("0" * 32, "x" * 32, "..", "%2e%2e%2fetc", "0" * 31 + "/"):
            r = c.get(f"/api/train/{bad}")
            assert r.status_code == 404, bad
        r = c.post(f"/api/train/{'a' * 32}/keep", json={"name": "x"})
        assert (r.status_code, r.json()["code"]) == (404, "unknown_job")
        assert c.post(f"/api/train/{'a' * 32}/keep", json={"name": ""}).status_code == 422


def test_options_list_every_task_with_its_defaults_and_the_limits(train_api):
    o = train_api.get("/api/train").json()
    assert o["enabled"] and [t["name"] for t in o["tasks"]] == [*presets.PRESETS]
    counting = next(t for t in o["tasks"] if t["name"] == "counting")
    assert counting["defaults"] == {"layers": 1, "hidden": 4, "steps": 1000, "lr": 0.01, "seed": 0}
    assert o["limits"]["parameters"] == 1000 and o["limits"]["jobs_per_client"] == 1


def test_a_jobs_command_line_is_the_configuration_it_was_made_from():
    args = presets.command("remember", 2, 12, 400, 0.003, 7, "-my run-", "remember-abc")
    cfg = train_config(build_parser().parse_args(args))
    assert (cfg.task, cfg.num_layers, cfg.hidden_size, cfg.steps, cfg.lr) == ("remember", 2, 12, 400, 0.003)
    assert cfg.seed == 7
    assert (cfg.forget_bias, cfg.target, cfg.eval_examples, cfg.threads) == (3.0, 1.0, 300, 1)
    assert cfg.history_every == cfg.eval_every == cfg.checkpoint_every == 50 and cfg.history_dir == "remember-abc"
    assert build_parser().parse_args(args).name == "-my run-"  # a name is a value, never a flag
    long = presets.command("counting", 1, 4, 5000, 0.01, 0, "x", "r")
    assert "--history-every=84" in long  # at most MAX_SNAPSHOTS snapshots: ceil(5000 / 60)


def test_the_event_log_gives_complete_lines_only(tmp_path):
    log = tmp_path / "events.jsonl"
    events.append(log, {"type": "start", "step": 0})
    with open(log, "ab") as fh:
        fh.write(b'{"type":"progress","steps":[1')  # a writer halfway through a line
    lines, offset = events.read_new(log, 0)
    assert [events.event_type(x) for _, x in lines] == ["start"] and offset == lines[0][0]
    with open(log, "ab") as fh:
        fh.write(b'],"loss":[0.5]}\n')
    more, end = events.read_new(log, offset)
    assert [events.event_type(x) for _, x in more] == ["progress"] and end == log.stat().st_size
    assert events.read_new(tmp_path / "missing", 5) == ([], 5)
    assert events.dumps({"step": 1, "type": "done"}).startswith(b'{"type":"done"')


def test_a_job_is_alive_exactly_while_its_process_holds_the_lock(tmp_path):
    job = store.new_job(tmp_path)
    assert not job.alive()
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], "
                               "os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); print(1, flush=True); "
                               "time.sleep(60)", str(job.lock)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"1"
        assert job.alive()
        events.write_json(job.status_json, {"state": "running", "step": 3})
        assert job.status()["state"] == "running"
    finally:
        holder.kill()
        holder.wait()
    assert not job.alive()
    st = job.status()
    assert (st["state"], st["step"], st["key"]) == ("failed", 3, "train.failed.vanished")
    lines, _ = events.read_new(job.events, 0)
    assert [events.event_type(x) for _, x in lines] == ["failed"]
    assert np.isfinite(st["ended"])
