"""Classifiers over stored VGG16 features: registry, leakage-free comparison, scoring."""

from .compare import ComparisonResult, compare_models
from .cv import CVPlan, plan_folds
from .features import TemporalContext, VideoNormalizer
from .intervals import INTERVAL_LEVEL
from .multilabel import MultiLabelClassifier
from .persist import SavedModel, check_config, load_model, save_model
from .presence import summarize_presence
from .registry import MODELS, build_model
from .score import ScoreResult, score_videos
from .smoothing import Smoother, candidate_smoothers, parse_smoother
from .timeline import Segment, VideoScreenTime, summarize_video, total_screen_time

__all__ = [
    "ComparisonResult", "compare_models", "CVPlan", "plan_folds", "TemporalContext", "VideoNormalizer", "INTERVAL_LEVEL", "SavedModel", "check_config", "load_model",
    "save_model", "MODELS", "build_model", "ScoreResult", "score_videos", "Smoother", "candidate_smoothers",
    "parse_smoother", "Segment", "VideoScreenTime", "summarize_video", "total_screen_time", "MultiLabelClassifier",
    "summarize_presence",
]
