"""Request and response bodies; the generated /openapi.json built from these is the API contract."""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

TOP_K_MAX = 50  # the most next-token predictions a trace answer lists per position (the cache keeps this many)

# Lone surrogates (JSON can spell "\ud800"; UTF-8 cannot carry it) and control characters other than tab,
# newline and carriage return: no text holds them, and an answer echoing them could not be encoded.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _text_only(s: str) -> str:
    bad = _NOT_TEXT.search(s)
    if bad is None:
        return s
    ch = bad.group()
    kind = "surrogate" if "\ud800" <= ch <= "\udfff" else "control"
    # The sentence is the catalog's error.bad_text_<kind> (app/errors.py reads these fields).
    raise PydanticCustomError("bad_text", "not text: {code} at character {at}",
                              {"kind": kind, "code": f"U+{ord(ch):04X}", "at": bad.start() + 1})


Text = Annotated[str, AfterValidator(_text_only)]


class Error(BaseModel):
    detail: str = Field(description="a sentence: what is wrong and what to do")
    code: str = Field(description="a short machine-readable id, e.g. unknown_model")


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    models: int
    version: str


class HeadInfo(BaseModel):
    """What the model outputs: the linear layer on top of the LSTM and how it is read."""

    kind: Literal["next_token", "tagger", "classifier"] = Field(
        description="next_token: a language model's next-token distribution after each position; tagger: a label "
                    "per position; classifier: one distribution per text")
    size: int = Field(description="number of outputs: the vocabulary, or the labels")
    labels: list[str] | None = Field(description="the output names of a tagger or classifier; null for next_token "
                                                 "(its outputs are the vocabulary)")
    pool: Literal["final", "last"] | None = Field(
        description="classifier only: final = the last layer's final h of each direction concatenated (torch "
                    "cat(h_n[-2], h_n[-1]), Keras return_sequences=False); last = the output at the last position")
    activation: Literal["softmax", "sigmoid"] = Field(description="sigmoid: each output is its own probability")


class Specials(BaseModel):
    """The vocabulary's special tokens (null where it has none)."""

    unk: str | None
    pad: str | None
    bos: str | None
    eos: str | None


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
    head: HeadInfo | None = Field(None, description="what the model outputs; null for an LSTM with nothing on top")
    specials: Specials | None = Field(None, description="the vocabulary's special tokens; null without a vocabulary")
    can_wrap: bool = Field(False, description="true when the vocabulary has a begin or end token (trace with wrap)")


class ModelDetail(ModelInfo):
    vocab: list[str] | None
    unk: str | None
    card: str = Field(description="the model card, markdown")


class ModelList(BaseModel):
    models: list[ModelInfo]
    directory: str | None = Field(description="where the server reads models from; null in public mode")
    uploads: bool = Field(description="whether POST /api/models/upload takes models (not in public mode)")


class TraceRequest(BaseModel):
    model: str = Field(description="a model id from /api/models", examples=["shakespeare-char"])
    text: Text = Field("", description="the text to trace; every character is kept, unknown ones flagged")
    top_k: int = Field(5, ge=0, le=TOP_K_MAX, description="next-token predictions to return per position")
    layers: list[int] | None = Field(None, description="layer indices to return; null for all")
    format: Literal["compact", "json"] = Field("compact", description="how i, f, g, o, c, h are encoded")
    vectors: list[list[float]] | None = Field(None, description="input vectors (T, input_size) for vector models")
    wrap: bool = Field(False, description="put the vocabulary's begin and end tokens (such as <s>, </s>) around the "
                                          "text; they become tokens of the trace (see ModelInfo.can_wrap)")


class CompactArray(BaseModel):
    """value = offset + q * scale for each little-endian uint16 q; max abs error scale / 2."""

    dtype: Literal["u2"] = "u2"
    bdata: str = Field(description="base64 of little-endian uint16, C order")
    shape: list[int] = Field(description="[layers, directions, steps, units]")
    offset: float
    scale: float


Values = CompactArray | list[list[list[list[float]]]]


class TopK(BaseModel):
    """The k likeliest outputs at each position: next tokens (a language model) or labels (a tagger)."""

    ids: list[list[int]]
    tokens: list[list[str]] = Field(description="the names of the outputs: tokens, or a tagger's labels")
    probs: list[list[float]]


class Classes(BaseModel):
    """A classifier's answer for the whole text: every class and its probability, in output order."""

    labels: list[str]
    probs: list[float]


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
    head: Literal["next_token", "tagger", "classifier"] | None = Field(
        description="which of top_k (next_token, tagger) or classes (classifier) holds the model's outputs")
    top_k: TopK | None = Field(description="the k likeliest next tokens (or a tagger's labels) at each position")
    classes: Classes | None = Field(description="a classifier's distribution over its classes for the whole text")
    next_prob: list[float | None] = Field(description="probability given at t-1 to token t; null at 0 and for OOV "
                                                      "(a language model's only)")
    cached_prefix: int = Field(description="tokens whose values were reused from the prefix cache")


class StepRequest(BaseModel):
    model: str
    text: Text = ""
    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1)
    t: int = Field(0, ge=0)
    unit: int = Field(0, ge=0)
    vectors: list[list[float]] | None = None
    wrap: bool = Field(False, description="as in TraceRequest: t counts the begin token when true")


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


# POST /api/models/upload reads its multipart form itself (to bound it while reading), so the form is
# declared here for /openapi.json and the tools that test from it.
UPLOAD_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                 "description": "the model: PyTorch (.safetensors, .pt), Keras (.keras, .h5) or ONNX (.onnx)"},
        "vocab": {"type": "string", "description": "optional vocabulary: a JSON list of tokens or one per line"},
        "tokenizer": {"type": "string", "enum": ["char", "word"], "description": "optional; guessed otherwise"},
        "name": {"type": "string", "description": "optional display name (a label, never a path)"},
    }}}}}}
