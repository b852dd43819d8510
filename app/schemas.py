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


class MemoryInfo(BaseModel):
    """What this process's caches hold (app/cache.py), by their own byte counts."""

    trace_bytes: int = Field(description="traces kept for reuse (bounded by GATESCOPE_TRACE_CACHE_MB)")
    trace_entries: int
    text_bytes: int = Field(description="the last few texts' tokens, kept for delta answers (estimated)")
    text_entries: int
    response_bytes: int = Field(description="encoded /api/trace answers (bounded by GATESCOPE_RESPONSE_CACHE_MB)")
    response_entries: int
    trims: int = Field(description="times the idle server handed free heap pages back (GATESCOPE_IDLE_TRIM_SECONDS)")
    frozen: int = Field(description="objects the garbage collector's full collections skip (GATESCOPE_GC_FREEZE)")


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
    history: int = Field(0, description="training snapshots saved for this model (GET /api/models/{id}/history)")
    examples: list[str] = Field([], description="example texts the model card declares (its ## Examples section)")
    opening: dict[str, str] = Field({}, description="the example the page opens on in each of its languages: the "
                                    "first in that language, else the first; {} without examples")


class ModelDetail(ModelInfo):
    vocab: list[str] | None
    unk: str | None
    card: str = Field(description="the model card, markdown")


class ModelList(BaseModel):
    models: list[ModelInfo]
    directory: str | None = Field(description="where the server reads models from; null in public mode")
    uploads: bool = Field(description="whether POST /api/models/upload takes models (not in public mode)")


class Snapshot(BaseModel):
    id: str = Field(description="a model id for every endpoint that takes one", examples=["counter~step-000200"])
    step: int = Field(description="training steps taken when the weights were saved")
    metrics: dict = Field(description="the held-out metrics and training loss measured at that step")


class History(BaseModel):
    model: str
    snapshots: list[Snapshot] = Field(description="in step order; the last is the trained model's weights")


Quantity = Literal["i", "f", "g", "o", "c", "h"]
MAX_INTERVENTIONS = 64


class Intervention(BaseModel):
    """Hold one unit's quantity at a value, where the LSTM equations produce it, so it flows downstream."""

    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1, description="0 forward, 1 backward")
    unit: int = Field(ge=0)
    quantity: Quantity = Field(description="i, f, g, o (after the activation), c (after the update) or h")
    value: float = Field(allow_inf_nan=False, examples=[0.0])
    positions: list[int] | None = Field(None, max_length=100_000,
                                        description="the timesteps to clamp; null for every one (silencing)")


class TraceInput(BaseModel):
    model: str = Field(description="a model id from /api/models", examples=["shakespeare-char"])
    text: Text = Field("", description="the text to trace; every character is kept, unknown ones flagged")
    vectors: list[list[float]] | None = Field(None, description="input vectors (T, input_size) for vector models")
    interventions: list[Intervention] = Field([], max_length=MAX_INTERVENTIONS,
                                              description="clamps applied during the run (never cached)")
    wrap: bool = Field(False, description="put the vocabulary's begin and end tokens (such as <s>, </s>) around the "
                                          "text; they become tokens of the trace (see ModelInfo.can_wrap)")


BINARY_MEDIA = "application/vnd.gatescope.trace"  # the media type of a format="binary" answer (app/serialize.py)


class TraceRequest(TraceInput):
    top_k: int = Field(5, ge=0, le=TOP_K_MAX, description="next-token predictions to return per position")
    layers: list[int] | None = Field(None, description="layer indices to return; null for all")
    format: Literal["compact", "json", "binary"] = Field(
        "compact", description="how i, f, g, o, c, h are encoded; \"binary\" answers " + BINARY_MEDIA + ": a "
        "little-endian uint32 n, n bytes of this JSON with each array's bdata replaced by byteOffset, zeros up to a "
        "multiple of 8 bytes, then the arrays' uint16 values, each from its byteOffset counted from there")
    held: Text | None = Field(None, description="the text of an earlier answer the client still holds (same model, "
                              "layers, format, top_k and wrap): the answer then starts at `start`, the first "
                              "position whose values may differ, and the client keeps its own before that")


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
    encoding: Literal["compact", "json", "binary"]
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
    start: int = Field(0, description="the first position this answer holds: i f g o c h, tokens, ids, spans, "
                                      "top_k and next_prob cover positions start..steps-1 (0 unless `held` was "
                                      "sent); the held answer's first `start` positions are the same")
    interventions: list[Intervention] = Field(description="the clamps applied, `positions` listed explicitly: the "
                                              "trace's values at those cells are the clamped values")


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


class Side(BaseModel):
    """One side of a comparison; an omitted model or text is side a's."""

    model: str | None = Field(None, description="a model id, or a training snapshot id such as counter~step-000200")
    text: Text | None = None
    vectors: list[list[float]] | None = None
    interventions: list[Intervention] = Field([], max_length=MAX_INTERVENTIONS)
    wrap: bool | None = Field(None, description="as in TraceRequest; omitted: a's, when b's vocabulary can wrap")


class CompareRequest(BaseModel):
    a: TraceInput
    b: Side = Field(description="the other run: another text, another model or snapshot, or the same with clamps")
    threshold: float = Field(0.05, ge=0, allow_inf_nan=False,
                             description="the runs diverge where some unit differs by more than this")
    top_k: int = Field(5, ge=0, le=TOP_K_MAX)
    layers: list[int] | None = None
    format: Literal["compact", "json"] = "compact"


class AlignmentBody(BaseModel):
    prefix: int = Field(description="tokens shared at the start")
    suffix: int = Field(description="tokens shared at the end, after the prefix")
    pairs: list[tuple[int, int]] = Field(description="aligned positions (t in a, t in b): the prefix, then the suffix")


PerLayer = list[list[int | None]]


class CompareResponse(BaseModel):
    a: TraceResponse
    b: TraceResponse
    alignment: AlignmentBody
    comparable: bool = Field(description="false when the two models differ in shape, so units do not correspond")
    reason: str | None = Field(description="why the values are not compared, when they are not")
    threshold: float
    diff: dict[str, Values] | None = Field(description="b - a per quantity at the aligned pairs: [layer][direction]"
                                                       "[pair][unit]")
    peak: dict[str, list[list[list[float]]]] | None = Field(description="max over units of |diff|: [layer][direction]"
                                                                        "[pair]")
    divergence: dict[str, PerLayer] | None = Field(description="per quantity and 'any': the first pair index where "
                                                               "peak > threshold, per [layer][direction]; null if none")
    last_divergent: dict[str, PerLayer] | None = Field(description="the last such pair index: after it they agree")
    next_prob_delta: list[float | None] = Field(description="per pair: the probability run b gave the token there "
                                                            "(from the step before) minus run a's; null where either "
                                                            "is undefined")


class SnapshotRequest(TraceInput):
    """The page's view to save as an HTML file. `interventions` here are the clamp panel's: the snapshot shows the
    run as it is and, beside it, its clamped copy."""

    layer: int = Field(0, ge=0)
    direction: int = Field(0, ge=0, le=1)
    unit: int = Field(0, ge=0)
    t: int | None = Field(None, ge=0, description="the step marked; null for the last")
    quantity: Quantity = "c"
    order: Literal["index", "mean", "variance", "similarity"] = "index"
    threshold: float = Field(0.05, ge=0, allow_inf_nan=False)
    compare: Side | None = Field(None, description="a second text or model to show against the first")


class LessonSummary(BaseModel):
    id: str
    model: str = Field(description="the model the lesson runs on (its own, or the one asked for with ?model=)")
    task: str = Field(description="the task (lstm_core.tasks) its models are trained on; another model trained on "
                      "it, with its vocabulary, can run the lesson")
    text: str = Field(description="the sentence it opens with")
    write: Literal["first", "largest", "place"] = Field(
        description="where the memory is written: the first token; the step where the unit's |i*g| is largest on "
                    "the current text; or that step among the place's tokens (see `place`)")
    place: list[list[str]] = Field(description="write=place: [language, opening, separator]; the place is the "
                                   "text between the opening and separator first found in the current sentence")
    available: bool = Field(description="whether the lesson's model is installed on this server")


class LessonList(BaseModel):
    lessons: list[LessonSummary]


class LessonEvidence(BaseModel):
    unit: int = Field(description="the unit the lesson watches (layer 0)")
    units: list[int] = Field(description="measured: every unit, best first; from the card: the units it names")
    measure: Literal["r", "eta2"] = Field(description="r: correlation of c with the task's feature; eta2: share of "
                                          "c's variance the example's label explains")
    value: float | None = Field(description="the measure at `unit`")
    others: float | None = Field(description="the best (measured) or median (card) |measure| among the other units")
    others_kind: Literal["best", "median"]
    examples: int | None = Field(description="held-out examples it was measured on")
    source: Literal["measured", "card"]
    effects: dict | None = Field(description="from the card: accuracy at the blank with the units clamped")


class LessonDetail(LessonSummary, LessonEvidence):
    by_language: dict[str, LessonEvidence] | None = Field(
        description="from a card that ranks units per language: the evidence for each (keys as in `place`); the "
                    "page watches the units of the language whose place it finds in the sentence")
