"""Many networks trained at once: K members held as batched parameters."""

from torchann.ensemble.model import Ensemble, EnsembleDense
from torchann.ensemble.train import EnsembleHistory, fit_ensemble

__all__ = ["Ensemble", "EnsembleDense", "EnsembleHistory", "fit_ensemble"]
