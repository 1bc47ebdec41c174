"""torchann: the classic backpropagation tutorial, rebuilt on PyTorch.

Activations are custom ``torch.autograd.Function``s whose backward uses the
cached forward output; the one- and two-layer nets mirror the seed's; ``fit``
is a hand-written gradient-descent loop with learning-rate annealing.
"""

from torchann.functional import ACTIVATION_NAMES, get_activation
from torchann.losses import squared_error
from torchann.backprop import backprop
from torchann.nn import MLP, Dense, SingleLayerNet, TwoLayerNet
from torchann.train import EpochEnd, History, TrainingDiverged, fit, lr_at

__all__ = [
    "ACTIVATION_NAMES", "get_activation", "squared_error", "Dense", "SingleLayerNet",
    "TwoLayerNet", "MLP", "backprop", "EpochEnd", "History", "TrainingDiverged", "fit", "lr_at",
]
__version__ = "0.1.0"
