"""Generated, labelled cartoon videos and the demo that runs the whole job on them (not part of the library)."""

from .demo import DemoResult, run_demo
from .synthetic import CLASSES, SyntheticVideo, make_dataset, make_video, true_screen_time, write_interval_labels

__all__ = ["DemoResult", "run_demo", "CLASSES", "SyntheticVideo", "make_dataset", "make_video", "true_screen_time",
           "write_interval_labels"]
