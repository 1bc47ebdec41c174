"""Exercises: checks for a learner's own backprop code that name the mistake, not the answer.

Each check runs the learner's code, compares it with the derivation (and with
torch's autograd through gradcheck), and returns a :class:`Report` to print:
right or wrong per layer or parameter, the size and place of the largest error,
and, when a wrong answer matches a known mistake, its name and the section of
``docs/backprop.md`` to read again. A report never shows a reference value or
formula, and a wrong answer never raises; a misused check (not a Function, not
a torchann net, shapes that do not fit the net) raises one line.

    check_activation(MySigmoid, like="sigmoid")   # the Function: values, gradient, what it keeps
    check_deltas(my_deltas, net, x, t)             # step II: δ_L, or [δ_1, ..., δ_L]
    check_gradients(my_gradients, net, x, t)       # step III: ∂E/∂W_l, ∂E/∂b_l
    check_update(my_step, net, x, t, lr)           # step IV, on the batch or (online=True) per row
    check_schedule(my_lr_at)                       # annealing: the rate of each epoch

``notebooks/exercises.ipynb`` sets the exercises in the tutorial's order.
"""

from torchann.exercises.activation import check_activation
from torchann.exercises.report import MISTAKES, Report
from torchann.exercises.steps import check_deltas, check_gradients, check_schedule, check_update

__all__ = ["check_activation", "check_deltas", "check_gradients", "check_update",
           "check_schedule", "Report", "MISTAKES"]
