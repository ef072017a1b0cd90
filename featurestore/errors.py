"""Every error and warning a user can cause, in one place (as scikit-learn's `exceptions.py`).

The CLI prints a `ScreentimeError` as one line on stderr and exits with status 1, and an
`InvalidParameter` as a usage error naming the option (exit status 2). Everything else that escapes the
library is a bug and keeps its traceback. Messages that tell the user what to run next name the command
as they ran it: `command("check-store --store f.h5")` is 'screentime check-store ...' for the installed
command and 'python cli.py check-store ...' in the repository (the CLI sets `PROG`).
"""

#: How the user runs screentime; set by the CLI (`cli.main`), read by `command`.
PROG = "screentime"


def command(args: str) -> str:
    """'<how the user runs screentime> <args>', for messages that say what to run next."""
    return f"{PROG} {args}"


class InvalidParameter(ValueError):
    """A parameter value the library refuses (a negative rate, an unknown name); a usage error, not bad input.

    Attributes `param` (the Python parameter, e.g. 'sample_fps') and `message` (what is wrong, without the
    name, e.g. '0 is not a positive rate; ...'). `str()` gives both; the CLI names its own option instead.
    """

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param, self.message = param, message


class ScreentimeError(Exception):
    """Base class: a problem with the user's input, told in one sentence."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else self.__class__.__name__


class VideoUnreadable(ScreentimeError, OSError):
    """The file is missing, not a video, or cannot be decoded."""


class SourceVideoMoved(VideoUnreadable):
    """The file a stored video was embedded from is no longer where the store recorded it (or has changed)."""


class StoreCorrupt(ScreentimeError, OSError):
    """The store path exists but is not a readable screentime store."""


class VideoDamaged(StoreCorrupt):
    """One stored video's data is damaged (fails its checksum, truncated, missing); the rest of the store is fine.

    Attributes `video_id` and `reason` (a few words) say which and how.
    """

    def __init__(self, message: str, video_id: str = "", reason: str = ""):
        super().__init__(message)
        self.video_id, self.reason = video_id, reason


class StoreUnwritable(ScreentimeError, OSError):
    """The store (or its shard folder) cannot be created or written."""


class StoreFull(StoreUnwritable):
    """The disk (or quota) holding the store is full; the store is left as it was before the write."""


class StoreMismatch(ScreentimeError, ValueError):
    """The request does not fit what the store already holds (config, content, sampling rate)."""


class NotEmbedded(ScreentimeError, KeyError):
    """A video id asked for is not (completely) in the store."""


class WeightsUnavailable(ScreentimeError, OSError):
    """The VGG16 weights cannot be loaded (offline download, unreadable or mismatched file)."""


class LabelsInvalid(ScreentimeError, ValueError):
    """A labels file is malformed or does not fit the store."""


class TooFewSamples(ScreentimeError, ValueError):
    """Not enough labelled frames, classes or videos for the requested cross-validation."""


class ModelFileRefused(ScreentimeError, ValueError):
    """A model file is missing, corrupt, from another tool, or made for other features."""


class OutputUnwritable(ScreentimeError, OSError):
    """A result file (JSON, CSV, plot, report, model) cannot be written where the user asked."""


class AllModelsFailed(ScreentimeError, RuntimeError):
    """Every candidate model failed during cross-validation."""


class LeakySplitRefused(ScreentimeError, ValueError):
    """A shuffled split was asked for without --allow-leaky-split."""


class PrecisionUnsupported(ScreentimeError, ValueError):
    """--precision asks for arithmetic the device cannot do natively (bfloat16 on a CPU without AVX-512 BF16 or AMX,
    or an older GPU; int8 on Keras)."""


class BackendUnavailable(ScreentimeError, ImportError):
    """KERAS_BACKEND names a backend that is not installed or not supported."""


class RuntimeUnavailable(ScreentimeError, ImportError):
    """--runtime openvino (or --precision int8) was asked for, but OpenVINO (or NNCF) is not installed."""


class ClusterUnavailable(ScreentimeError, RuntimeError):
    """--ray was given but Ray is not installed, or the cluster cannot be reached."""


class EmbedWarning(UserWarning):
    """Something was embedded, but not all of it (e.g. a truncated video), or stored data had to be replaced."""


class UnlikeTrainingWarning(UserWarning):
    """A scored video is further from the training samples than any video held out in cross-validation was."""


class TrainingDisagreesWarning(UserWarning):
    """The model compare-models refitted on every labelled frame does not reproduce those labels (issue 26)."""


class OutputRefused(InvalidParameter):
    """An output of a call would overwrite one of its inputs (a video, labels, the model, the store) or another of
    its outputs (issue 23): refused before any work, nothing written.

    `other` is the parameter of that other output, if any: the message says '{other}' where `told` names it as
    the user did (the CLI's option; the Python parameter by default).
    """

    def __init__(self, param: str, message: str, other: str | None = None):
        self.template, self.other = message, other
        super().__init__(param, self.told(str))

    def told(self, name) -> str:
        """The message, the other output named by `name(param)`."""
        return self.template.replace("{other}", name(self.other)) if self.other else self.template


class TrainingStoreMissing(ScreentimeError, FileNotFoundError):
    """score was given no store, and the feature store the model was trained on is not where it was recorded."""
