"""Labels in, screen time out: classifiers over stored VGG16 features.

Three entry modules, one per job: `compare` (train: compare models by leakage-free cross-validation, save
the best), `score` (serve: screen time of new videos), `suggest` (which seconds to label next). Their
rooms: `data/` (labels files and labelled datasets), `chain/` (what a saved model runs: per-video stages,
estimators, smoothing, the labels rule, screen time, intervals, the model file), `selection/` (registry,
folds, held-out scoring, metrics, thresholds), `active/` (spans and fold committees for suggest-labels),
`output/` (console tables, result files, plots, contact sheets). `choices` lists the named options
without importing scikit-learn.
"""

from featurestore.lazy import lazy_names

# Each name loads with its module on first use: see featurestore/lazy.py.
_MODULES = {
    ".compare": ("ComparisonResult", "compare_models"),
    ".score": ("ScoreResult", "score_videos"),
    ".suggest": ("Suggestions", "suggest_labels", "write_suggestions"),
    ".selection.cv": ("CVPlan", "plan_folds"),
    ".selection.registry": ("MODELS", "build_model"),
    ".chain.stages": ("TemporalContext", "VideoNormalizer"),
    ".chain.intervals": ("INTERVAL_LEVEL",),
    ".chain.model": ("SavedModel",),
    ".chain.persist": ("check_config", "load_model", "save_model"),
    ".chain.smoothing": ("Smoother", "candidate_smoothers", "parse_smoother"),
    ".chain.timeline": ("Segment", "VideoScreenTime", "summarize_video", "total_screen_time"),
    ".chain.estimators": ("MultiLabelClassifier",),
    ".chain.presence": ("summarize_presence",),
    ".data.join": ("read_labels",),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
