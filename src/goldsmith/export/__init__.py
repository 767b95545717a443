"""Export: the format registry, splits, dataset cards and the training-file validator."""
