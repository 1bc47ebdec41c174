"""Runnable experiments, one per file: ``python -m experiments.<name>``.

``python -m experiments`` lists them; ``python -m experiments.all`` re-creates
every figure of the seed in one folder.
"""

EXPERIMENTS = {
    "activations": "Figure 2: activations and their derivatives (the derivatives by autograd through our backward)",
    "error_surface": "Figure 4: error surfaces of 1- and 2-weight sigmoid nets, with gradient-descent paths",
    "logic": "Figures 7-9: a single sigmoid unit on OR, AND (learned) and XOR (not learnable); --gate",
    "xor": "Figure 10: XOR learned by a 2-3-1 sigmoid network, online SGD",
    "ring": "Figure 11: the ring (a class surrounded by the other) with 3 sigmoid hidden units",
    "regression": "Figures 12-13: 2.5 + sin(x) or |x| with 3 tanh units and annealing; --target",
    "backprop_steps": "the derivation post live: the four steps' numbers for one observation, three engines side by side",
    "restarts": "thousands of random restarts at once: success rate vs hidden units, learning rate, annealing",
    "digits": "an MLP on real handwritten digits: test accuracy, confusion matrix, mistakes, first-layer weights",
    "generalization": "train vs test error from 1 to 256 hidden units, with a full and a small training set",
    "init_saturation": "why the seed's U(-0.5, 0.5) weights saturate sigmoid units in wide layers",
    "all": "every figure above into one folder, with a progress bar",
}
