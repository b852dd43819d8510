"""The model card an import writes: what was read, how it was verified, and what was assumed."""
from __future__ import annotations

from ..model import Model
from .heads import sentence


def _int8_sentence(q: dict) -> str:
    """The card's line on the int8 graph itself: the measured error against onnxruntime's int8 kernel."""
    head = (f"The int8 graph itself, run by onnxruntime, differs from gatescope by **{q['max']:.2e}** (int8 "
            f"tolerance {q['tolerance']}): onnxruntime also rounds the inputs and h to 8 bits at every step, and "
            "gatescope does not; it runs the dequantized weights in float.")
    if q["within"]:
        return head
    return head + (" That is more than such rounding explains: onnxruntime's int8 kernel itself departs from the "
                   "float model here (likely its u8 x s8 products saturating on a CPU without VNNI; graphs quantized "
                   "with reduce_range=True avoid it). gatescope shows what the weights compute.")


def card(meta: dict, model: Model, record: dict, notes: list[str]) -> str:
    """The imported model's card (markdown): shape, file hash, the verification figures, caveats and notes."""
    cfg, src = model.lstm.config, meta["provenance"]["import"]
    lines = [f"# {meta['name']}", "", meta["description"], "",
             f"- LSTM: {cfg.num_layers} layer(s), {cfg.num_directions} direction(s), hidden size {cfg.hidden_size}"
             + (f", projection {cfg.proj_size}" if cfg.proj_size else "") + f", input size {cfg.input_size}",
             f"- input: {model.input_kind}" + (f", vocabulary of {model.vocab_size} ({model.tokenizer.kind})"
                                               if model.tokenizer else ""),
             f"- head: {sentence(model.head)}",
             f"- file sha256: `{src.get('sha256', '?')}`", "", "## Verification", ""]
    if record.get("verified"):
        d = record["max_abs_diff"]
        lines.append(f"Run in {record['framework']} ({record['reference']}) and in gatescope on a random probe "
                     f"({record['probe']['batch']} sequences x {record['probe']['steps']} steps): maximum absolute "
                     f"difference **{record['max']:.2e}** ({'within' if record['passed'] else 'ABOVE'} the "
                     f"tolerance {record['tolerance']:.0e}).")
        shown = {k: "shapes differ" if v is None else f"{v:.2e}" for k, v in d.items()}
        lines += ["", "| compared | max abs diff |", "|---|---|"] + [f"| {k} | {v} |" for k, v in shown.items()]
        lines += [""] + [f"Caveat: {c}." for c in record.get("caveats", [])] if record.get("caveats") else []
        if "int8" in record:
            lines += ["", _int8_sentence(record["int8"])]
    else:
        lines.append(f"Not verified: {record.get('reason')}.")
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"
