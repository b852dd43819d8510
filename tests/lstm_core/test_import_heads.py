"""Heads that are not next-token decoders, imported from torch checkpoints and checked against the modules'
own forward: a BiLSTM diacritizer (a per-character tagger) and sequence classifiers."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lstm_core import ModelError, load_model, save_model  # noqa: E402
from lstm_core.importers import import_model  # noqa: E402

TOL = 1e-5
LETTERS = [chr(c) for c in range(0x0621, 0x063B)] + [chr(c) for c in range(0x0641, 0x064B)]  # 36 Arabic letters
SYMBOLS = ["<PAD>", "<UNK>", " ", ".", "،", "؟", "!", "-", *"0123456789", *LETTERS]  # 54, as the real checkpoint
# The 15 classes of Arabic diacritization: none, fatha, fathatan, damma, dammatan, kasra, kasratan, sukun, shadda,
# and shadda with each of the six short vowels and tanween.
MARKS = ["", "\u064e", "\u064b", "\u064f", "\u064c", "\u0650", "\u064d", "\u0652", "\u0651",
         "\u0651\u064e", "\u0651\u064b", "\u0651\u064f", "\u0651\u064c", "\u0651\u0650", "\u0651\u064d"]


class Diacritizer(torch.nn.Module):
    """Embedding(54) -> LSTM(3 layers, 256, bidirectional) -> Linear(512, 15): a label per character."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = torch.nn.Embedding(len(SYMBOLS), 64, padding_idx=0)
        self.lstm = torch.nn.LSTM(64, 256, num_layers=3, bidirectional=True, batch_first=True)
        self.fc = torch.nn.Linear(512, len(MARKS))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.lstm(self.embedding(ids))[0])  # (B, T, 15) logits


@pytest.fixture(scope="module")
def diacritizer(tmp_path_factory):
    """The checkpoint as such projects ship it: torch.save of a state dict, a token -> id JSON, a label list."""
    torch.manual_seed(0)
    net = Diacritizer().eval()
    with torch.no_grad():  # torch's init makes every label about 1/15; trained weights are larger and decide
        for p in net.lstm.parameters():
            p.mul_(4)
        net.fc.weight.mul_(16)
    d = tmp_path_factory.mktemp("diacritizer")
    torch.save(net.state_dict(), d / "diacritizer.pt")
    (d / "letters.json").write_text(json.dumps({s: k for k, s in enumerate(SYMBOLS)}, ensure_ascii=False))
    (d / "marks.json").write_text(json.dumps(MARKS, ensure_ascii=False))
    return net, d


def test_the_pt_file_loads_with_weights_only(diacritizer):
    _, d = diacritizer
    sd = torch.load(d / "diacritizer.pt", weights_only=True)
    assert sd["fc.weight"].shape == (15, 512) and sd["embedding.weight"].shape == (54, 64)


@pytest.fixture(scope="module")
def imported(diacritizer):
    _, d = diacritizer
    return import_model(d / "diacritizer.pt", vocab=d / "letters.json", labels=d / "marks.json")


def test_diacritizer_is_a_tagger_whose_labels_match_torch_per_position(diacritizer, imported):
    net, _ = diacritizer
    m = imported.model
    assert m.head.kind == "tagger" and m.head.labels == tuple(MARKS) and m.head.size == 15
    assert m.tokenizer.kind == "char" and m.tokenizer.unk == "<UNK>" and m.tokenizer.pad == "<PAD>"
    text = "كتب الطالب الدرس."
    tt = m.trace_text(text)
    ids = torch.tensor([[SYMBOLS.index(ch) for ch in text]])
    with torch.no_grad():
        want = torch.softmax(net(ids), -1)[0].numpy()  # the module's own forward
    assert tt.probs.shape == (len(text), 15)
    assert want.max() > 0.5  # decisive outputs, so a small misreading would show
    assert np.abs(tt.probs - want).max() < TOL
    v = imported.verification
    assert v["passed"] and v["max_abs_diff"]["probs"] < TOL
    assert "tagger" in m.meta["card"] and "fathatan" not in m.meta["card"]  # the card names the labels it was given
    assert "\u064e" in m.meta["card"]


def test_unknown_characters_read_the_unk_row(diacritizer, imported):
    net, _ = diacritizer
    text = "پدر abc گل"  # Persian letters and Latin ones are not in the Arabic vocabulary
    tt = imported.model.trace_text(text)
    unk = SYMBOLS.index("<UNK>")
    want_ids = [SYMBOLS.index(ch) if ch in SYMBOLS else unk for ch in text]
    assert tt.ids.tolist() == want_ids
    assert tt.oov == [k for k, ch in enumerate(text) if ch not in SYMBOLS]
    with torch.no_grad():
        want = torch.softmax(net(torch.tensor([want_ids])), -1)[0].numpy()
    assert np.abs(tt.probs - want).max() < TOL
    # A zero input (what an unrecognised <UNK> gave before) is another thing: the test can tell them apart.
    with torch.no_grad():
        x = net.embedding(torch.tensor([want_ids]))
        x[0, tt.oov] = 0
        zero = torch.softmax(net.fc(net.lstm(x)[0]), -1)[0].numpy()
    assert np.abs(tt.probs - zero).max() > 0.05


def test_head_kind_and_labels_survive_the_model_file(tmp_path, imported):
    save_model(imported.model, tmp_path / "d.safetensors")
    back = load_model(tmp_path / "d.safetensors")
    assert (back.head.kind, back.head.labels) == ("tagger", tuple(MARKS))
    assert back.tokenizer.unk == "<UNK>"
    text = "سلام"
    np.testing.assert_array_equal(back.trace_text(text).probs, imported.model.trace_text(text).probs)


class FinalState(torch.nn.Module):
    """The usual torch classifier: Linear over cat(h_n[-2], h_n[-1]), the last layer's final state both ways."""

    def __init__(self, classes: int, bidirectional: bool = True) -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(12, 6)
        self.rnn = torch.nn.LSTM(6, 5, num_layers=2, bidirectional=bidirectional, batch_first=True)
        self.classifier = torch.nn.Linear(5 * (1 + bidirectional), classes)

    def forward(self, ids):
        _, (h_n, _) = self.rnn(self.emb(ids))
        feat = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.rnn.bidirectional else h_n[-1]
        return self.classifier(feat)


class LastStep(FinalState):
    """The other pattern seen in the wild: Linear over output[:, -1]."""

    def forward(self, ids):
        out, _ = self.rnn(self.emb(ids))
        return self.classifier(out[:, -1])


VOCAB = list("abcdefghij") + ["[UNK]", "[PAD]"]


def _save(net, path):
    torch.save({"epoch": 7, "model_state_dict": net.state_dict()}, path)  # a training checkpoint, as people keep them


@pytest.mark.parametrize("cls, pool, classes, bidirectional", [
    (FinalState, None, 4, True), (LastStep, "last", 4, True), (FinalState, None, 1, False)])
def test_classifier_matches_the_module_forward(tmp_path, cls, pool, classes, bidirectional):
    torch.manual_seed(5)
    net = cls(classes, bidirectional).eval()
    _save(net, tmp_path / "c.pt")
    res = import_model(tmp_path / "c.pt", vocab=VOCAB, head="classifier", pool=pool)
    m = res.model
    assert m.head.kind == "classifier" and m.head.pool == (pool or "final")
    text = "abcxjj"  # x is unknown: [UNK]
    tt = m.trace_text(text)
    ids = [VOCAB.index(c) if c in VOCAB else VOCAB.index("[UNK]") for c in text]
    with torch.no_grad():
        logits = net(torch.tensor([ids]))[0]
    want = (torch.sigmoid(logits) if classes == 1 else torch.softmax(logits, -1)).numpy()
    assert tt.probs.shape == (classes,)
    assert np.abs(tt.probs - want).max() < TOL
    assert res.verification["passed"] and res.verification["max_abs_diff"]["probs"] < TOL
    assert m.head.labels == tuple(str(k) for k in range(classes))
    assert any("--labels" in n for n in res.notes)
    if pool is None and bidirectional:
        assert any("cat([h_n[-2], h_n[-1]]" in n for n in res.notes)  # the assumption is said
    if classes == 1:
        assert m.head.activation == "sigmoid" and any("sigmoid" in n for n in res.notes)


def test_the_pooling_matters_so_the_wrong_one_would_be_caught(tmp_path):
    torch.manual_seed(6)
    net = LastStep(3).eval()
    _save(net, tmp_path / "c.pt")
    wrong = import_model(tmp_path / "c.pt", vocab=VOCAB, head="classifier").model  # assumes the final state
    ids = [0, 1, 2, 3]
    with torch.no_grad():
        want = torch.softmax(net(torch.tensor([ids])), -1)[0].numpy()
    assert np.abs(wrong.trace_text("abcd").probs - want).max() > 1e-3


def test_without_head_flag_a_classifier_checkpoint_reads_as_a_tagger_and_says_so(tmp_path):
    torch.manual_seed(7)
    _save(FinalState(3).eval(), tmp_path / "c.pt")
    res = import_model(tmp_path / "c.pt", vocab=VOCAB)
    assert res.model.head.kind == "tagger"
    assert any("--head classifier" in n for n in res.notes)
    assert "--head classifier" in res.model.meta["card"]


def test_a_decoder_the_size_of_the_vocabulary_stays_a_language_model_unless_told(tmp_path):
    torch.manual_seed(8)
    emb, lstm, fc = torch.nn.Embedding(12, 4), torch.nn.LSTM(4, 5), torch.nn.Linear(5, 12)
    sd = {**{f"emb.{k}": v for k, v in emb.state_dict().items()},
          **{f"lstm.{k}": v for k, v in lstm.state_dict().items()},
          **{f"fc.{k}": v for k, v in fc.state_dict().items()}}
    torch.save(sd, tmp_path / "lm.pt")
    assert import_model(tmp_path / "lm.pt", vocab=VOCAB).model.head.kind == "next_token"
    tagged = import_model(tmp_path / "lm.pt", vocab=VOCAB, head="tagger").model
    assert tagged.head.kind == "tagger" and tagged.decode(tagged.lstm.trace(np.zeros((2, 4), np.float32))) is None
    names = [f"L{k}" for k in range(12)]
    assert import_model(tmp_path / "lm.pt", vocab=VOCAB, labels=names).model.head.labels == tuple(names)


@pytest.mark.parametrize("kw, match", [
    (dict(labels=["a", "b"]), "the labels name 2 classes but the head has 15 outputs"),
    (dict(head="next-token"), "needs one output row per vocabulary token"),
    (dict(head="regressor"), "next-token, tagger or classifier"),
    (dict(pool="last"), "--pool chooses what a classifier reads"),
    (dict(pool="mean", head="classifier"), "'final' or 'last'"),
    (dict(labels='["a", "a", ' + ", ".join(f'"{k}"' for k in range(13)) + "]"), "names the label 'a' twice"),
])
def test_head_options_that_do_not_fit_are_sentences(diacritizer, kw, match):
    _, d = diacritizer
    with pytest.raises(ModelError, match=match):
        import_model(d / "diacritizer.pt", vocab=d / "letters.json", verify=False, **kw)


def test_head_options_on_a_bare_lstm_are_refused(tmp_path):
    torch.save(torch.nn.LSTM(3, 4).state_dict(), tmp_path / "bare.pt")
    with pytest.raises(ModelError, match="no output layer"):
        import_model(tmp_path / "bare.pt", head="tagger")
