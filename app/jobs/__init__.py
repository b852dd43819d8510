"""Training jobs: tiny models trained from the page, each in a process of its own, their state on disk.

A job is a directory `<var dir>/jobs/<id>/` that any server worker can read:

    job.json        what was asked (task, configuration, name, client), the command and the process id
    status.json     the latest state, step, loss and accuracy (rewritten atomically, a few times a second)
    events.jsonl    append-only JSON lines: start, progress, snapshot (with the probe's gate trace), and a
                    last done / stopped / failed; GET /api/train/{id}/events tails it as Server-Sent Events
    lock            held (flock) by the training process for as long as it lives
    model.safetensors, ckpt.safetensors (+ .optim), <run>/ (the history snapshots), log.txt

The training process is the real command line, `python -m app train ... --events events.jsonl`, run in the
job directory: `events` is the format, `reporter` writes it from inside that process, `store` reads a job,
`runner` starts, supervises, stops and resumes processes within the limits, `keep` turns a job's result into
a model of the model directory.
"""
