"""Lookups over an ONNX graph: stored tensors behind a name, provably-zero states, and the embedding
and decoder around a stack of LSTM nodes. Exporters surround each LSTM with shape plumbing
(Transpose, Reshape, Squeeze...), so every walk steps through GLUE ops.

A value is stored (an initializer, a Constant node, an Identity of either), supplied by the user for a
graph input (`onnx_inputs`), or computed. Empty names are omitted optional inputs and outputs, never values.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .parts import as_float

GLUE = {"Transpose", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Cast", "Dropout", "Flatten"}


class Graph:
    """Lookups over one graph: constants by name, producers and consumers of each value."""

    def __init__(self, graph, onnx, supplied: dict[str, np.ndarray] | None = None) -> None:
        self.onnx = onnx
        self.inits = {t.name: t for t in graph.initializer}
        self.producer = {o: n for n in graph.node for o in n.output if o}
        self.consumers: dict[str, list] = {}
        for n in graph.node:
            for i in n.input:
                if i:
                    self.consumers.setdefault(i, []).append(n)
        self.inputs = {i.name for i in graph.input} - set(self.inits)
        self.supplied = dict(supplied or {})
        unknown = sorted(set(self.supplied) - self.inputs)
        if unknown:
            raise ModelError(f"{', '.join(map(repr, unknown))} is not an input of the graph; its inputs are "
                             f"{', '.join(map(repr, sorted(self.inputs))) or 'none'}")

    def origin(self, name: str) -> str:
        """The value `name` is a reshaped or cast copy of (through GLUE ops), or itself."""
        for _ in range(16):
            n = self.producer.get(name)
            if n is None or n.op_type not in GLUE:
                break
            name = n.input[0]
        return name

    def needs_value(self, name: str, node, role: str) -> ModelError:
        """The sentence for a graph input the user has not supplied."""
        return ModelError(f"LSTM node {node.name!r}: {role} comes from the graph input {name!r}, which the file "
                          f"does not store; supply its value with --onnx-input {name}=FILE.npy "
                          f"(Python: onnx_inputs={{{name!r}: array}})")

    def tensor(self, name: str):
        """The stored array behind `name`, following Identity; None if the graph computes it."""
        for _ in range(16):
            if name in self.supplied:
                return self.supplied[name]
            if name in self.inits:
                t = self.inits[name]
                if t.data_location == self.onnx.TensorProto.EXTERNAL:
                    raise ModelError(f"tensor {name!r} is stored in an external data file; gatescope reads "
                                     "self-contained .onnx files only (save with save_as_external_data=False)")
                return self.onnx.numpy_helper.to_array(t)
            n = self.producer.get(name)
            if n is None:
                return None
            if n.op_type == "Constant":
                for at in n.attribute:
                    if at.name == "value":
                        return self.onnx.numpy_helper.to_array(at.t)
                return None
            if n.op_type != "Identity":
                return None
            name = n.input[0]
        return None

    def stored(self, name: str, node, role: str) -> np.ndarray:
        """The array behind a node input, as stored or supplied; a sentence if the graph computes it."""
        a = self.tensor(name) if name else None
        if a is None:
            if name in self.inputs:
                raise self.needs_value(name, node, role)
            how = self.producer[name].op_type if name in self.producer else "nothing"
            raise ModelError(f"LSTM node {node.name!r}: {role} is computed by the graph ({how}), not stored; "
                             "gatescope reads weights stored in the file or supplied for a graph input")
        return a

    def const(self, name: str, node, role: str) -> np.ndarray:
        return as_float(self.stored(name, node, role), f"{node.name or 'LSTM'}.{role}")

    def check_zero_state(self, name: str, node, role: str, H: int) -> None:
        """gatescope starts from zero states: a stored, supplied or derived initial state must be zeros of width H."""
        if not name:
            return  # omitted: zeros
        if self.origin(name) in self.inputs and self.origin(name) not in self.supplied:
            raise self.needs_value(self.origin(name), node, role)
        a = self.tensor(name)
        if a is not None and a.ndim == 3 and a.shape[-1] != H:
            raise ModelError(f"LSTM node {node.name!r}: {role} has width {a.shape[-1]} but hidden_size is {H}; "
                             "the graph is inconsistent (onnxruntime refuses it too)")
        if not self._zero(name):
            raise ModelError(f"LSTM node {node.name!r}: {role} is not a zero tensor; gatescope starts every "
                             "layer from zero state")

    def _zero(self, name: str, depth: int = 0) -> bool:
        """True when the value is provably all zeros: stored zeros, ConstantOfShape(0), or a slice,
        reshape or broadcast of zeros (torch's exporter builds zero states that way)."""
        a = self.tensor(name)
        if a is not None:
            return not np.any(a)
        n = self.producer.get(name)
        if n is None or depth > 12:
            return False
        if n.op_type == "ConstantOfShape":
            return not n.attribute or not np.any(self.onnx.numpy_helper.to_array(n.attribute[0].t))
        if n.op_type == "Concat":
            return all(self._zero(i, depth + 1) for i in n.input)
        if n.op_type in GLUE | {"Slice", "Expand", "Tile", "Gather"}:
            return self._zero(n.input[0], depth + 1)
        return False

    def descends(self, name: str, ancestor: str) -> bool:
        """True when value `name` is computed from value `ancestor`."""
        seen, todo = set(), [name]
        while todo:
            v = todo.pop()
            if v == ancestor:
                return True
            if v in seen or v not in self.producer:
                continue
            seen.add(v)
            todo += [i for i in self.producer[v].input if i]
        return False

    def embedding(self, x: str):
        """(table (V, E), ids input name) when the first LSTM reads Gather(stored table, ids)."""
        n, dq = self.producer.get(x), None
        while n is not None and (n.op_type in GLUE or (n.op_type == "DequantizeLinear" and dq is None)):
            dq = n if n.op_type == "DequantizeLinear" else dq  # quantize_dynamic stores an int8 table
            n = self.producer.get(n.input[0])
        if n is None or n.op_type != "Gather":
            return None, None
        table = self.tensor(n.input[0])
        if table is None or table.ndim != 2:
            return None, None
        if dq is not None:
            scale = self.tensor(dq.input[1])
            zero = self.tensor(dq.input[2]) if len(dq.input) > 2 and dq.input[2] else 0
            if scale is None or np.size(scale) != 1 or np.size(zero) != 1:
                return None, None  # a per-axis dequantization of the gathered rows: not read
            table = (table.astype(np.float32) - np.float32(zero)) * np.float32(scale)  # (V, E)
        return as_float(table, n.input[0]), n.input[1]

    def decoder(self, y: str):
        """(weight (V, D*H), bias (V,)|None) when the last LSTM's output feeds MatMul/Gemm with stored weights."""
        v = y
        for _ in range(8):
            cs = self.consumers.get(v, [])
            if len(cs) != 1:
                return None, None
            n = cs[0]
            if n.op_type in GLUE:
                v = n.output[0]
                continue
            if n.op_type == "MatMul" and n.input[0] == v and (w := self.tensor(n.input[1])) is not None and w.ndim == 2:
                nxt = self.consumers.get(n.output[0], [])
                b = None
                if len(nxt) == 1 and nxt[0].op_type == "Add":
                    other = [i for i in nxt[0].input if i != n.output[0]]
                    b = self.tensor(other[0]) if other else None
                    b = b if b is not None and b.shape == (w.shape[1],) else None
                return as_float(w.T, n.input[1]), None if b is None else as_float(b, "decoder bias")
            if n.op_type == "Gemm" and n.input[0] == v and (w := self.tensor(n.input[1])) is not None:
                ta = {at.name: at.i for at in n.attribute}
                if ta.get("transA", 0) or ta.get("alpha", 1) != 1:
                    return None, None
                w = w if ta.get("transB", 0) else w.T  # (V, D*H)
                b = self.tensor(n.input[2]) if len(n.input) > 2 and n.input[2] else None
                b = b if b is not None and b.shape == (w.shape[0],) else None
                return as_float(w, n.input[1]), None if b is None else as_float(b, "decoder bias")
            return None, None
        return None, None
