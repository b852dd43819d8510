"""gatescope's numerics: an LSTM that records every gate, model files, importers, training, analysis.

NumPy and the standard library only (safetensors for files); nothing here knows about the web.
"""
from .activations import Activation
from .errors import ModelError
from .examples import card_examples
from .head import Head
from .lstm import LSTM, LSTMConfig
from .model import Model, TextTrace
from .modelfile import load_model, save_model
from .predict import Predictions
from .tokenizers import Tokenizer, Tokens
from .trace import Trace, concat_time

__all__ = ["LSTM", "Activation", "Head", "LSTMConfig", "Model", "ModelError", "Predictions", "TextTrace",
           "Tokenizer", "Tokens", "Trace", "card_examples", "concat_time", "load_model", "save_model"]
