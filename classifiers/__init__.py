"""Classifiers over stored VGG16 features: registry, leakage-free comparison, scoring."""

from featurestore.lazy import lazy_names

# Each name loads with its module on first use: see featurestore/lazy.py.
_MODULES = {
    ".compare": ("ComparisonResult", "compare_models"),
    ".cv": ("CVPlan", "plan_folds"),
    ".features": ("TemporalContext", "VideoNormalizer"),
    ".intervals": ("INTERVAL_LEVEL",),
    ".persist": ("SavedModel", "check_config", "load_model", "save_model"),
    ".registry": ("MODELS", "build_model"),
    ".score": ("ScoreResult", "score_videos"),
    ".smoothing": ("Smoother", "candidate_smoothers", "parse_smoother"),
    ".timeline": ("Segment", "VideoScreenTime", "summarize_video", "total_screen_time"),
    ".multilabel": ("MultiLabelClassifier",),
    ".presence": ("summarize_presence",),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
