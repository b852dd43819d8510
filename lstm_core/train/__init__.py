"""The NumPy trainer: truncated BPTT for character language models, Adam, checkpoints and resume.

`cell` holds one LSTM step's forward and backward side by side, `model_grad` the whole model's,
`optim` Adam, clipping and the schedule, `data` and `sources` what is learned from, `loop` the run,
`checkpoint` the files, `card` the model card. Trained weights keep torch `nn.LSTM` names, so every
result is a plain `lstm_core.Model`.
"""
from .config import TrainConfig
from .loop import Outcome, TrainingError, train
from .model_grad import NetSpec, forward_backward, init_params, to_model

__all__ = ["NetSpec", "Outcome", "TrainConfig", "TrainingError", "forward_backward", "init_params", "to_model",
           "train"]
