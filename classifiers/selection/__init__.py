"""Choosing a model: the registry of candidates (`registry`), leakage-free folds (`cv`), fitting them in worker
processes (`pool`), held-out scoring through the saved model's chain (`heldout`), metrics (`metrics`) and
multi-label thresholds (`thresholds`)."""
