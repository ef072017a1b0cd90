"""Classifiers over stored VGG16 features: registry, leakage-free comparison, scoring."""

from importlib import import_module

# Names load with their module on first use (PEP 562), so `import classifiers.choices` or the CLI's --help
# does not pay for pandas, h5py or scikit-learn.
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
_WHERE = {name: module for module, names in _MODULES.items() for name in names}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
