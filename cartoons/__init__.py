"""Generated, labelled cartoon videos and the demo that runs the whole job on them (not part of the library).

`synthetic` writes the videos and their truth (`drawing` draws them); `demo` runs embed, compare-models and
score on them. `actors` composes videos of real faces (`cast`, `scenes`, `compositing`, `backdrops`) and their
truth; `demo_faces` runs the face pipeline on them.
"""

from featurestore.lazy import lazy_names

_MODULES = {
    ".actors": ("ActorVideo", "make_actor_dataset", "make_actor_video"),
    ".demo": ("DemoResult", "run_demo"),
    ".demo_faces": ("run_faces_demo",),
    ".synthetic": ("CLASSES", "SyntheticVideo", "make_dataset", "make_video", "true_screen_time", "write_interval_labels"),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
