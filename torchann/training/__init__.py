"""What hangs off ``torchann.fit``'s loop, one job per file: ``history`` (the record of a
run and the ways it ends early), ``loop`` (batches, epoch losses, divergence, resume),
``validation`` (validation and early stopping) and ``metrics`` (accuracy)."""
