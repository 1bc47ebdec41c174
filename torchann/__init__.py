"""torchann: the classic backpropagation tutorial, rebuilt on PyTorch.

The tutorial, one file each: ``functional`` (activations whose backward is
g'(z) from the cached output), ``nn`` (the seed's nets), ``losses``,
``backprop`` (the derivation written out, no autograd) and ``train`` (``fit``,
the four steps of gradient descent). The sub-packages hold the machinery:
``training`` (what hangs off fit's loop), ``runs`` (folders, checkpoints,
weights files), ``viz`` (figures, animation, TensorBoard), ``data`` and
``ensemble`` (many nets trained at once).
"""

from torchann.backprop import ExplicitBackprop, backprop_by_hand
from torchann.functional import ACTIVATION_NAMES, ACTIVATIONS, get_activation
from torchann.losses import squared_error
from torchann.nn import MLP, Dense, SingleLayerNet, TwoLayerNet
from torchann.runs.checkpoint import Checkpoint
from torchann.train import EpochEnd, History, TrainingDiverged, TrainingInterrupted, fit, lr_at
from torchann.training.validation import Validation

__all__ = [
    "ACTIVATION_NAMES", "ACTIVATIONS", "get_activation", "squared_error", "Dense",
    "SingleLayerNet", "TwoLayerNet", "MLP", "ExplicitBackprop", "backprop_by_hand", "fit",
    "lr_at", "EpochEnd", "History", "TrainingDiverged", "TrainingInterrupted", "Checkpoint",
    "Validation",
]
__version__ = "0.1.0"
