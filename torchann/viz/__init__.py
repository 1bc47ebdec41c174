"""Seeing a run: figures, animations, TensorBoard and progress lines."""
