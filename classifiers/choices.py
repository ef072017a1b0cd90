"""The named choices `compare-models` offers, kept free of scikit-learn so the CLI builds its options quickly."""

#: Registered models, in leaderboard order (classifiers.selection.registry builds them).
MODEL_NAMES = ("logreg", "mlp", "gboost", "lightgbm")
#: Cross-validation schemes (classifiers.selection.cv plans them).
SPLITS = ("auto", "grouped", "leave-one-video-out", "blocks", "shuffled")
#: Ranking metrics: name -> True if higher is better (classifiers.selection.metrics computes them).
METRICS = {"macro_f1": True, "balanced_accuracy": True, "log_loss": False, "screen_time_error_pct": False}
#: Per-video feature normalisations (classifiers.chain.stages.VideoNormalizer).
FEATURE_NORMS = ("none", "center", "standardize")
#: Those `--feature-norm auto` chooses from by cross-validation ("standardize" only when asked for: measured on
#: the demo's cartoons alone, docs/backbones.md).
AUTO_FEATURE_NORMS = ("none", "center")
#: How compare-models chooses the per-video stages and the model (classifiers.selection.choice).
SELECTIONS = ("best", "one-se", "one-se-all")
DEFAULT_SELECTION = "best"  # issue 26: the one-SE rule never helped on new episodes, along stages or models
#: How saved models make screen-time intervals (classifiers.chain.intervals).
INTERVAL_METHODS = ("cv-plus", "conformal", "conformal-class", "t-rms")
DEFAULT_INTERVAL_METHOD = "cv-plus"
