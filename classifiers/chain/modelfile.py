"""Model files that cannot run code when loaded: skops.io archives read with an explicit list of trusted types.

A model file is a skops archive (a zip of a JSON schema and NumPy arrays) of one object, usually a dict of
metadata and fitted estimators. Loading it builds only objects of types skops trusts by default (builtins,
NumPy arrays, scikit-learn estimators), the LightGBM and scikit-learn internals listed in `TRUSTED_TYPES`,
and classes defined in screentime's own `classifiers` package; any other type named in the file (a
function such as `os.system`, a foreign class) makes the whole file refused before anything in it is built.
Pickles (joblib files of older screentime versions) are refused outright: loading one can run any code.
Files written before screentime's own classes moved (issue 16) name them where they were; `MOVED_TYPES`
says where they are now, and the archive's schema is read with the new names.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import zipfile
from pathlib import Path

from featurestore.errors import ModelFileRefused
from featurestore.files import atomic_output

# Fitted-state types of the registry's models that skops does not trust by default (found with
# skops.io.get_untrusted_types on each fitted model; tests/test_modelfile.py checks the list stays enough).
TRUSTED_TYPES = (
    "collections.OrderedDict",  # LightGBM's parameter dicts
    "lightgbm.basic.Booster",  # rebuilt from LightGBM's text model format, no code
    "lightgbm.sklearn.LGBMClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
)
OWN_PACKAGE = "classifiers"
#: screentime's classes that model files name, from where they were to where they are (issue 16 moved them).
MOVED_TYPES = {
    "classifiers.registry.ReduceDims": "classifiers.chain.estimators.ReduceDims",
    "classifiers.registry.BalancedWeights": "classifiers.chain.estimators.BalancedWeights",
    "classifiers.multilabel.MultiLabelClassifier": "classifiers.chain.estimators.MultiLabelClassifier",
}
MAX_UNPACKED_BYTES = 4 * 2**30  # fold models and the familiarity reference make files of megabytes, not gigabytes
_PICKLE_STARTS = (b"\x80", b"x\x01", b"x^", b"x\x9c", b"x\xda", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x04\"M\x18")  # pickle; joblib's zlib, gzip, bz2, xz, lz4


def dump_model_file(obj, path: str | Path) -> Path:
    """Write `obj` (a dict of JSON-able metadata and fitted estimators) to `path` atomically, as skops."""
    import skops.io as sio

    path = Path(path)
    with atomic_output(path) as tmp:
        sio.dump(obj, tmp)
    return path


def untrusted_types(path: str | Path) -> list[str]:
    """Types named in the skops file at `path` that screentime will not build (empty: safe to load)."""
    import skops.io as sio

    return [name for name in sio.get_untrusted_types(file=path) if not _is_trusted(name)]


def load_model_file(path: str | Path):
    """Load a file written by `dump_model_file`, building only trusted types.

    Raises
    ------
    ModelFileRefused
        The file is a pickle, not a skops archive, names an untrusted type, or cannot be read; one line.
    """
    import skops.io as sio

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as err:
        raise ModelFileRefused(f"model file {path} cannot be read ({err.strerror}); check the path") from None
    if head.startswith(_PICKLE_STARTS):
        raise ModelFileRefused(f"model file {path} is a pickle (an older screentime's or another tool's), not a screentime "
                               "model file: loading a pickle can run any code, so it is refused; train a new model with compare-models")
    if not zipfile.is_zipfile(path):
        raise ModelFileRefused(f"model file {path} cannot be read (not a skops archive); it is corrupt or not a screentime "
                               "model, train a new one with compare-models")
    _check_unpacked_size(path)
    try:
        data = _with_moved_types(path.read_bytes())
        named = sio.get_untrusted_types(data=data)  # the archive's schema, read once
        refused = [name for name in named if not _is_trusted(name)]
        if refused:
            raise ModelFileRefused(
                f"model file {path} names types screentime does not trust ({', '.join(refused[:3])}"
                f"{', ...' if len(refused) > 3 else ''}); it was not written by compare-models, so it is not loaded")
        return sio.loads(data, trusted=named)
    except ModelFileRefused:
        raise
    except Exception as err:  # a damaged or foreign archive can fail in many ways inside skops
        first = str(err).splitlines()[0][:120] if str(err) else ""
        raise ModelFileRefused(f"model file {path} cannot be read ({type(err).__name__}: {first}); it is corrupt or not "
                               "a screentime model, train a new one with compare-models") from None


def _check_unpacked_size(path: Path) -> None:
    """Refuse an archive that would unpack to more than `MAX_UNPACKED_BYTES` (a zip bomb, or not a model)."""
    try:
        with zipfile.ZipFile(path) as archive:
            size = max(sum(item.file_size for item in archive.infolist()), path.stat().st_size)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ModelFileRefused(f"model file {path} cannot be read ({type(err).__name__}); it is corrupt or not a "
                               "screentime model, train a new one with compare-models") from None
    if size > MAX_UNPACKED_BYTES:
        raise ModelFileRefused(f"model file {path} unpacks to {size / 2**30:.1f} GiB, more than a model file holds "
                               f"({MAX_UNPACKED_BYTES / 2**30:.0f} GiB); it is not a screentime model")


def _with_moved_types(data: bytes) -> bytes:
    """The skops archive `data`, its schema naming each class of `MOVED_TYPES` where it is now (unchanged if none)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
        if not _rename_types(schema):
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as copy:
            for item in archive.infolist():
                body = json.dumps(schema).encode() if item.filename == "schema.json" else archive.read(item.filename)
                copy.writestr(item, body)
    return out.getvalue()


def _rename_types(node) -> bool:
    """Rewrite in place every ``{"__module__": m, "__class__": c}`` whose 'm.c' moved; whether any did."""
    changed = False
    if isinstance(node, dict):
        moved = MOVED_TYPES.get(f"{node.get('__module__')}.{node.get('__class__')}")
        if moved is not None:
            node["__module__"], node["__class__"] = moved.rsplit(".", 1)
            changed = True
        for value in node.values():
            changed |= _rename_types(value)
    elif isinstance(node, list):
        for value in node:
            changed |= _rename_types(value)
    return changed


def _is_trusted(type_name: str) -> bool:
    """A listed type, or a class (not a function) defined in screentime's own `classifiers` package."""
    if type_name in TRUSTED_TYPES:
        return True
    module_name, _, attr = type_name.rpartition(".")
    if not (module_name == OWN_PACKAGE or module_name.startswith(OWN_PACKAGE + ".")) or not attr.isidentifier():
        return False
    try:
        if importlib.util.find_spec(module_name) is None:
            return False
        obj = getattr(importlib.import_module(module_name), attr, None)
    except (ImportError, ValueError):
        return False
    return isinstance(obj, type) and obj.__module__ == module_name
