"""Training jobs over real HTTP and Server-Sent Events, on two server processes sharing their directories (as
--workers 2 does): a job started through one is followed, stopped, resumed and kept through the other.
Jobs are real `python -m app train` processes on the counting task (100% held-out accuracy in ~220 steps)."""
from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.testing import start_server, stop_server
from lstm_core import load_model
from lstm_core.tasks import TASKS, accuracy
from tests.app.conftest import make_models
from tests.app.trainjobs import run_card_command, same_weights, sse, wait

pytestmark = pytest.mark.slow
ENV = {"GATESCOPE_TRAIN_JOBS": "4", "GATESCOPE_TRAIN_JOBS_PER_CLIENT": "3"}


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model directory, var directory) shared by both servers."""
    root = tmp_path_factory.mktemp("train")
    (root / "models").mkdir()
    make_models(root / "models")
    return root / "models", root / "var"


@pytest.fixture(scope="module")
def pair(dirs) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Clients on two separate server processes (A and B) over the same model and var directories."""
    models, var = dirs
    env = {**ENV, "GATESCOPE_VAR_DIR": str(var)}
    (a, pa), (b, pb) = start_server(models, env=env), start_server(models, env=env)
    with httpx.Client(base_url=a, timeout=60) as ca, httpx.Client(base_url=b, timeout=60) as cb:
        yield ca, cb
    stop_server(pa)
    stop_server(pb)


@pytest.fixture(scope="module")
def counter_run(pair) -> dict:
    """A counting job with the page's defaults, started on A and streamed to its end from B."""
    a, b = pair
    r = a.post("/api/train", json={"task": "counter", "name": "first counter"})
    assert r.status_code == 202, r.text
    job = r.json()
    assert re.fullmatch(r"[0-9a-f]{32}", job["id"]) and job["events"] == f"/api/train/{job['id']}/events"
    assert a.cookies.get("gs_client")  # the client id the per-client limit counts by
    events = sse(b, job["events"])
    return {"job": job, "events": events, "status": b.get(f"/api/train/{job['id']}").json()}


@pytest.fixture(scope="module")
def kept_counter(pair, counter_run) -> str:
    """The id of a model kept from counter_run: the first kept, or kept here when this worker has kept none (the
    suite runs under pytest-xdist, so the test that keeps may run in another worker, with its own servers)."""
    a, b = pair
    job_id = counter_run["job"]["id"]
    models = a.get(f"/api/train/{job_id}").json()["models"]
    if models:
        return models[0]
    r = b.post(f"/api/train/{job_id}/keep", json={"name": "first counter"})
    assert r.status_code == 200, r.text
    return r.json()["id"]


def test_counter_trains_to_the_accuracy_bar_streamed_by_the_other_server(counter_run):
    events, status = counter_run["events"], counter_run["status"]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "progress" in kinds and kinds.count("snapshot") >= 5
    assert all(e["event"] == e["data"]["type"] for e in events)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # byte offsets into the log: Last-Event-ID resumes
    steps = [s for e in events if e["event"] == "progress" for s in e["data"]["steps"]]
    assert steps == list(range(1, steps[-1] + 1))  # every step's loss arrives, once, in order
    losses = [x for e in events if e["event"] == "progress" for x in e["data"]["loss"]]
    assert sum(losses[-20:]) / 20 < 0.6 * sum(losses[:20]) / 20
    snaps = [e["data"] for e in events if e["event"] == "snapshot"]
    assert [s["step"] for s in snaps] == list(range(20, 20 * len(snaps) + 1, 20))
    probe = snaps[-1]["probe"]
    assert "".join(probe["tokens"]) == counter_run["job"]["probe"] and probe["encoding"] == "compact"
    assert probe["f"]["shape"] == [1, 1, len(probe["tokens"]), 4]  # the forget gate of every unit at every step
    assert status["state"] == "done" and status["accuracy"] == 1.0 == events[-1]["data"]["metrics"]["accuracy"]
    assert status["step"] == snaps[-1]["step"] < status["steps"]  # it stopped at the bar, before its last step


def test_kept_model_joins_every_servers_models_and_scores_as_its_card_says(pair, counter_run, dirs):
    a, b = pair
    job_id = counter_run["job"]["id"]
    r = b.post(f"/api/train/{job_id}/keep", json={"name": "../../etc/My counter"})
    assert r.status_code == 200, r.text
    info = r.json()
    assert re.fullmatch(rf"train-{job_id[:12]}-\d+", info["id"]) and info["name"] == "../../etc/My counter"
    assert info["id"] in [m["id"] for m in a.get("/api/models").json()["models"]]
    assert a.post("/api/trace", json={"model": info["id"], "text": "aaaXbbb."}).status_code == 200
    model = load_model(dirs[0] / f"{info['id']}.safetensors")
    assert accuracy(model, TASKS["counting"], n=500) >= 0.99  # recomputed by the core, not read from the card
    assert info["id"] in b.get(f"/api/train/{job_id}").json()["models"]  # (kept_counter may have kept one before)
    history = json.loads((dirs[0] / "history" / info["id"] / "history.json").read_text())
    assert [s["step"] for s in history["snapshots"]][-1] == counter_run["status"]["step"]


def test_the_card_command_reproduces_the_kept_weights_bit_for_bit(pair, counter_run, kept_counter, dirs, tmp_path):
    a, _ = pair
    kept = kept_counter
    card = a.get(f"/api/models/{kept}").json()["card"]
    command = card.split("## Reproduce\n```\n")[1].split("\n```")[0]
    assert command == counter_run["status"]["command"] and "--seed=0" in command
    done = run_card_command(command, tmp_path)
    assert done.returncode == 0, done.stderr
    same_weights(tmp_path / "model.safetensors", dirs[0] / f"{kept}.safetensors")


def test_a_stream_continues_from_last_event_id_and_an_ended_one_says_204(pair, counter_run):
    _, b = pair
    events = counter_run["events"]
    rest = sse(b, counter_run["job"]["events"], headers={"Last-Event-ID": events[2]["id"]})
    assert [e["id"] for e in rest] == [e["id"] for e in events[3:]]
    r = b.get(counter_run["job"]["events"], headers={"Last-Event-ID": events[-1]["id"]})
    assert r.status_code == 204  # EventSource stops reconnecting


def test_two_jobs_at_once_both_finish(pair):
    a, b = pair
    jobs = [a.post("/api/train", json={"task": "counting", "steps": 60, "seed": s}).json() for s in (1, 2)]
    assert all(j["state"] in ("starting", "running") for j in jobs)
    ends = [sse(c, j["events"])[-1]["data"] for c, j in zip((a, b), jobs, strict=True)]
    assert [e["type"] for e in ends] == ["done", "done"] and [e["step"] for e in ends] == [60, 60]


def test_stop_keep_and_resume_give_the_same_weights_as_one_run(pair, kept_counter, dirs, tmp_path):
    a, b = pair
    job = a.post("/api/train", json={"task": "counting", "name": "stopped"}).json()
    wait(b, job["id"], ("running",), until=lambda st: st["step"] >= 40)
    r = b.post(f"/api/train/{job['id']}/stop")
    assert r.status_code == 202, r.text
    st = wait(a, job["id"], ("stopped", "done", "failed"))
    assert st["state"] == "stopped", st
    kept = b.post(f"/api/train/{job['id']}/keep", json={"name": "half a counter"}).json()
    card = a.get(f"/api/models/{kept['id']}").json()["card"]
    command = card.split("## Reproduce\n```\n")[1].split("\n```")[0]
    assert command.endswith(f"--stop-at={st['step']}")
    assert run_card_command(command, tmp_path).returncode == 130  # it stops where the job was stopped
    same_weights(tmp_path / "ckpt.safetensors", dirs[0] / f"{kept['id']}.safetensors")
    assert a.post(f"/api/train/{job['id']}/resume").status_code == 202
    assert sse(b, job["events"])[-1]["event"] == "done"
    again = a.post(f"/api/train/{job['id']}/keep", json={"name": "whole"}).json()
    first = kept_counter
    same_weights(dirs[0] / f"{again['id']}.safetensors", dirs[0] / f"{first}.safetensors")  # resumed exactly
    assert a.post(f"/api/train/{job['id']}/resume").json()["code"] == "not_stopped"


def test_killing_a_job_process_fails_it_with_a_sentence_and_the_server_serves(pair, dirs):
    a, b = pair
    job = a.post("/api/train", json={"task": "brackets", "steps": 3000}).json()
    wait(a, job["id"], ("running",), until=lambda st: st["step"] > 0)
    pid = json.loads((dirs[1] / "jobs" / job["id"] / "job.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    st = wait(b, job["id"], ("failed",), timeout=60)
    assert "SIGKILL" in st["detail"] and "server is still running" in st["detail"], st["detail"]
    zh = b.get(f"/api/train/{job['id']}", headers={"Accept-Language": "zh-CN"}).json()["detail"]
    assert "SIGKILL" in zh and "服务器仍在运行" in zh
    assert sse(b, job["events"])[-1]["event"] == "failed"
    assert a.get("/api/health").json()["status"] == "ok" and b.get("/api/models").status_code == 200
    assert a.post(f"/api/train/{job['id']}/stop").json()["code"] == "not_running"


def test_a_job_past_its_wall_time_is_ended_with_a_sentence(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    make_models(models)
    base, proc = start_server(models, env={"GATESCOPE_VAR_DIR": str(tmp_path / "var"),
                                           "GATESCOPE_TRAIN_MAX_SECONDS": "4"})
    try:
        with httpx.Client(base_url=base, timeout=60) as c:
            job = c.post("/api/train", json={"task": "brackets", "steps": 3000}).json()
            t0 = time.monotonic()
            st = wait(c, job["id"], ("failed", "done"), timeout=120)
            assert st["state"] == "failed" and "ran out of time" in st["detail"] and "4 s" in st["detail"], st
            assert time.monotonic() - t0 < 60
            assert c.get("/api/health").status_code == 200
    finally:
        stop_server(proc)
