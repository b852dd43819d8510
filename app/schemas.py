"""Request and response bodies; the generated /openapi.json built from these is the API contract."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Error(BaseModel):
    detail: str = Field(description="a sentence: what is wrong and what to do")
    code: str = Field(description="a short machine-readable id, e.g. unknown_model")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    models: int
    version: str


class ModelInfo(BaseModel):
    id: str = Field(description="the file stem of models/<id>.safetensors")
    name: str
    description: str
    tokenizer: Literal["char", "word"] | None
    input: Literal["onehot", "embedding", "vector"]
    layers: int
    directions: int
    hidden_size: int
    output_size: int = Field(description="H_out: proj_size when the LSTM projects h, else hidden_size")
    proj_size: int
    input_size: int
    vocab_size: int | None
    parameters: int
    causal: bool = Field(description="true when position t depends only on tokens up to t")
    reverse: bool = Field(False, description="true for a single right-to-left direction (ONNX direction='reverse')")
    metrics: dict
    source: dict = Field(description="provenance: how the weights were made or imported")
    verification: dict | None = Field(description="for imports: the difference measured against the framework")


class ModelDetail(ModelInfo):
    vocab: list[str] | None
    unk: str | None
    card: str = Field(description="the model card, markdown")


class ModelList(BaseModel):
    models: list[ModelInfo]


class TraceRequest(BaseModel):
    model: str = Field(description="a model id from /api/models", examples=["shakespeare-char"])
    text: str = Field("", description="the text to trace; every character is kept, unknown ones flagged")
    top_k: int = Field(5, ge=0, le=50, description="next-token predictions to return per position")
    layers: list[int] | None = Field(None, description="layer indices to return; null for all")
    format: Literal["compact", "json"] = Field("compact", description="how i, f, g, o, c, h are encoded")
    vectors: list[list[float]] | None = Field(None, description="input vectors (T, input_size) for vector models")


class CompactArray(BaseModel):
    """value = offset + q * scale for each little-endian uint16 q; max abs error scale / 2."""

    dtype: Literal["u2"] = "u2"
    bdata: str = Field(description="base64 of little-endian uint16, C order")
    shape: list[int] = Field(description="[layers, directions, steps, units]")
    offset: float
    scale: float


Values = CompactArray | list[list[list[list[float]]]]


class TopK(BaseModel):
    ids: list[list[int]]
    tokens: list[list[str]]
    probs: list[list[float]]


class TraceResponse(BaseModel):
    model: str
    tokens: list[str]
    ids: list[int]
    oov: list[int] = Field(description="positions whose token is out of vocabulary")
    oov_chars: list[str] = Field(description="the distinct out-of-vocabulary tokens, in order of appearance")
    spans: list[tuple[int, int]]
    layers: list[int]
    directions: int
    steps: int
    hidden_size: int
    output_size: int
    encoding: Literal["compact", "json"]
    i: Values
    f: Values
    g: Values
    o: Values
    c: Values
    h: Values
    top_k: TopK | None = Field(description="the k likeliest next tokens after each position")
    next_prob: list[float | None] = Field(description="probability given at t-1 to token t; null at 0 and for OOV")
    cached_prefix: int = Field(description="tokens whose values were reused from the prefix cache")


class StepRequest(BaseModel):
    model: str
    text: str = ""
    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1)
    t: int = Field(0, ge=0)
    unit: int = Field(0, ge=0)
    vectors: list[list[float]] | None = None


class GateTerms(BaseModel):
    W_x: float = Field(description="(W_i x_t)[unit]: the input's contribution")
    b_ih: float
    W_h: float = Field(description="(W_h h_{t-1})[unit]: the previous hidden state's contribution")
    b_hh: float
    peephole: float | None
    pre: float = Field(description="the sum (clipped when the model clips): what the activation sees")
    value: float


class StepTerms(BaseModel):
    i: GateTerms
    f: GateTerms
    g: GateTerms
    o: GateTerms


class StepResponse(BaseModel):
    token: str
    t: int
    layer: int
    direction: int
    unit: int
    c_prev: float
    h_prev_unit: float | None = Field(description="h_{t-1}[unit]; null when the LSTM projects h")
    terms: StepTerms
    c: float
    tanh_c: float
    h: float
    projected: bool
    activations: dict[str, str]
