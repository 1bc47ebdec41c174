"""What hangs off ``torchann.fit``'s loop, one job per file: argument checks, the
run's bookkeeping, accuracy, validation and early stopping."""
