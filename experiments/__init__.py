"""Runnable experiments, one per file: ``python -m experiments.<name>``.

``python -m experiments`` lists them.
"""

EXPERIMENTS = {
    "xor": "Figure 10: XOR learned by a 2-3-1 sigmoid network (online SGD)",
}
