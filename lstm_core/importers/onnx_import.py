"""ONNX graphs: every `LSTM` node is a layer, in graph order; weights come from the node's inputs.

Initializer names mean nothing (exporters write `onnx::LSTM_378`), so W, R, B and P are looked up
by the node's input names in the initializers, Constant nodes and Identity chains. ONNX layout:
W [D, 4H, in], R [D, 4H, H], B [D, 8H] = [Wb | Rb], P [D, 3H]; gate rows i|o|f|c, peepholes i|o|f.
Converted here to torch's i|f|g|o (blocks 0, 2, 3, 1) and peephole rows i|f|o; direction 0 is the
forward one. `clip`, `input_forget` and the activation attributes go to the LSTM config.
direction="reverse" becomes an LSTM with `reverse=True` (one right-to-left direction; index t is still
input position t). `layout=1` (batch first) changes only how X and the outputs are laid out.

onnxruntime's `quantize_dynamic` writes `com.microsoft` `DynamicQuantizeLSTM` nodes: the same op with
W [D, in, 4H] and R [D, H, 4H] (transposed) in int8, and W_scale, W_zero_point, R_scale, R_zero_point,
per tensor ([D]) or per output channel ([D, 4H]). They are dequantized here, (q - zero_point) * scale,
and traced in float. Optional inputs and outputs may be omitted; W, R, B, P and initial states may be
stored or supplied by the user for graph inputs; a sequence_lens graph input is honoured (gatescope
traces each text at its own length). Refused, each with a sentence: layers that differ in size,
direction or activations, weights computed by the graph, unsupplied graph inputs, stored or computed
sequence_lens, external data files with a directory in their path, and other recurrent ops.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..lstm import LSTM
from .onnx_graph import GLUE, Graph
from .onnx_nodes import node_spec, stored_batch
from .parts import MAX_FILE_BYTES, Parts, unify_dtype

LSTM_OPS = ("LSTM", "DynamicQuantizeLSTM")
OTHER_RECURRENT = ("GRU", "RNN", "Scan", "Loop", "DynamicQuantizeGRU")
# onnxruntime's int8 kernel also rounds X and h to uint8 at every step, which gatescope (float, dequantized
# weights) does not: on the tests' 2 x 16 models that moves onnxruntime's outputs by 1e-3 (up to 1.4e-3 on
# the probe, 1e-2 on longer inputs) from its own float graph. The exact check (1e-5) is onnxruntime running
# the graph with float LSTM nodes holding the dequantized weights; the int8 graph is compared too and
# flagged above this bound.
QUANTIZED_TOLERANCE = 0.02


def read(path: Path, source: dict, supplied: dict | None = None) -> Parts:
    try:
        import onnx
    except ImportError:
        raise ModelError("reading ONNX files needs the onnx package (pip install onnx)") from None
    try:
        # External data names paths inside the file: never followed by onnx, see _external below.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and friends for truncated or foreign files
        raise ModelError(f"{path.name} is not a readable ONNX model ({type(e).__name__}); "
                         "it may be truncated") from None
    if any(not isinstance(v, str) for n in model.graph.node for v in (n.op_type, n.name, *n.input, *n.output)):
        raise ModelError(f"{path.name} is a damaged ONNX model (a node holds names that are not text)")
    _external(model, path.parent, onnx)
    g = Graph(model.graph, onnx, supplied)
    nodes = [n for n in model.graph.node if n.op_type in LSTM_OPS]
    others = sorted({n.op_type for n in model.graph.node if n.op_type in OTHER_RECURRENT})
    if others:
        raise ModelError(f"the graph has {', '.join(others)} node(s), a recurrence gatescope does not read; it "
                         "imports LSTM and DynamicQuantizeLSTM nodes only")
    if not nodes:
        raise ModelError(f"{path.name} has no LSTM node; gatescope imports LSTM layers")
    _refuse_dynamo_projection(nodes)
    specs = [node_spec(n, g) for n in nodes]
    first = specs[0]
    for k, s in enumerate(specs[1:], 1):
        for key in ("H", "D", "reverse", "acts", "clip", "input_forget", "peep", "layout"):
            if s[key] != first[key]:
                raise ModelError(f"LSTM node {k} ({nodes[k].name!r}) differs from node 0 in {key}: "
                                 f"{s[key]!r} vs {first[key]!r}; gatescope's layers share one configuration")
        if not g.descends(nodes[k].input[0], nodes[k - 1].output[0] if nodes[k - 1].output else ""):
            raise ModelError(f"LSTM node {k} ({nodes[k].name!r}) does not read node {k - 1}'s output; "
                             "gatescope imports a plain stack of LSTM layers")
    params: dict = {}
    biased = any(("bias_ih", "") in s["params"] for s in specs)
    for k, s in enumerate(specs):
        if biased and ("bias_ih", "") not in s["params"]:  # an omitted B is zeros (ONNX), as other layers need one
            for sfx in ("", "_reverse")[: s["D"]]:
                s["params"]["bias_ih", sfx] = s["params"]["bias_hh", sfx] = np.zeros(4 * s["H"], np.float32)
        params.update({f"{name}_l{k}{sfx}": a for (name, sfx), a in s["params"].items()})
    acts = first["acts"]
    lstm = LSTM.from_torch_state_dict(unify_dtype(params), clip=first["clip"], input_forget=first["input_forget"],
                                      reverse=first["reverse"],
                                      recurrent_activation=acts[0], cell_activation=acts[1], hidden_activation=acts[2])
    emb, _ = g.embedding(nodes[0].input[0])
    dec_w, dec_b = g.decoder(nodes[-1].output[0] if nodes[-1].output else "")
    # The plumbing exporters use to build zero states, and the softmax gatescope's decoder applies itself.
    used = {*LSTM_OPS, "Gather", "MatMul", "Add", "Gemm", "Constant", "Shape", "Slice", "Concat", "ConstantOfShape",
            "Expand", "Tile", "Softmax", "LogSoftmax", "DequantizeLinear", *GLUE}
    ignored = sorted({n.op_type for n in model.graph.node if n.op_type not in used})
    src = {"framework": "onnx", "opset": max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                                              default=None),
           "producer": f"{model.producer_name} {model.producer_version}".strip(), "lstm_nodes": len(nodes), **source}
    quantized = any(n.op_type == "DynamicQuantizeLSTM" for n in nodes)
    ref = {"model": model, "layout": first["layout"], "vocab_rows": None if emb is None else emb.shape[0],
           "supplied": g.supplied, "sequence_lens": next((s["seq"] for s in specs if s["seq"]), None),
           "float_twin": {k: s["dequantized"] for k, s in enumerate(specs) if s["dequantized"]}, "caveats": [],
           "int8_tolerance": QUANTIZED_TOLERANCE,
           "bind": stored_batch(model.graph, g, nodes[0], first["layout"])}
    notes = []
    if quantized:
        notes.append("The LSTM weights are int8 (onnxruntime's DynamicQuantizeLSTM): gatescope dequantizes them, "
                     "(q - zero_point) * scale, and runs in float. onnxruntime also quantizes the inputs and h to "
                     "8 bits at every step, and gatescope does not, so the two differ by the activations' rounding.")
        ref["caveats"].append("the LSTM nodes are int8 DynamicQuantizeLSTM: the figures above compare onnxruntime "
                              "running the graph with float LSTM nodes that hold the dequantized weights")
    if first["layout"]:
        notes.append("The LSTM nodes use layout=1 (batch first); gatescope reads the same weights either way.")
        ref["caveats"].append("onnxruntime does not run layout=1 LSTMs, so the graph was run with each LSTM node "
                              "rewritten to layout=0 between Transposes of its inputs and outputs")
    if ref["sequence_lens"]:
        notes.append(f"sequence_lens comes from the graph input {ref['sequence_lens']!r}: gatescope traces each text "
                     "at its own length, which is what the graph computes when given the text's length.")
    if ignored:
        notes.append(f"graph ops not represented: {', '.join(ignored)}")
    return Parts("onnx", lstm, emb, dec_w, dec_b, src, notes=notes, reference=ref)


def _external(model, folder: Path, onnx) -> None:
    """Read external tensor data, but only from a plain file name next to the model, within its bounds.

    torch's dynamo exporter writes `<model>.onnx.data` beside the graph by default. A location with
    a directory part could make us read any file on the machine, so it is refused.
    """
    budget = MAX_FILE_BYTES
    for t in model.graph.initializer:
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        if not loc or loc != Path(loc).name or loc in (".", ".."):
            raise ModelError(f"tensor {t.name!r} points to external data {loc!r}; only a file name beside the "
                             "model is accepted (save with save_as_external_data=False to embed it)")
        f = folder / loc
        if not f.is_file():
            raise ModelError(f"tensor {t.name!r} is stored in {loc!r}, which is not beside the model; "
                             "upload a self-contained .onnx (save with save_as_external_data=False)")
        offset, length = int(info.get("offset", 0)), int(info.get("length", -1))
        size = f.stat().st_size
        length = size - offset if length < 0 else length
        if offset < 0 or offset + length > size or length > budget:
            raise ModelError(f"tensor {t.name!r} claims bytes {offset}..{offset + length} of {loc!r}, "
                             f"which has {size}; the data file is truncated or does not belong to this model")
        budget -= length
        with open(f, "rb") as fh:
            fh.seek(offset)
            t.raw_data = fh.read(length)
        del t.external_data[:]
        t.data_location = onnx.TensorProto.DEFAULT


def _refuse_dynamo_projection(nodes) -> None:
    """torch's dynamo exporter writes an LSTM with proj_size as a plain LSTM of size proj_size: wrong."""
    for n in nodes:
        for p in n.metadata_props:
            if p.key == "pkg.torch.onnx.fx_node" and "weight_hr" in p.value:
                raise ModelError("this graph was exported by torch.onnx (dynamo) from an nn.LSTM with proj_size; "
                                 "that exporter drops the projection and writes a wrong LSTM. Import the PyTorch "
                                 "state dict (.safetensors or .pt) instead.")
