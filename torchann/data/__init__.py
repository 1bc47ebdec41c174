"""Data: the seed's toy problems (``torchann.data.toy``, re-exported here) and real
datasets (``torchann.data.datasets``)."""

from torchann.data.toy import (GATES, REGRESSION_TARGETS, corners, logic_gate, regression,
                               regression_function, ring)

__all__ = ["GATES", "REGRESSION_TARGETS", "corners", "logic_gate", "regression",
           "regression_function", "ring"]
