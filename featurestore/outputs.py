"""Which paths a call writes and reads, checked together before any work (issue 23): `CallFiles`.

Every job (embed, score and `Score.write`, compare-models, suggest-labels) lists what it reads -- videos, labels
files, the model, a weights file, the feature store with its shard folder -- and what it writes, then calls
`CallFiles.check`, which refuses in one line (`OutputRefused`, an `InvalidParameter` naming the output's
parameter) an output that is one of the inputs, lies in a store's shard folder, or is another output of the same
call (two videos whose subtitles would share one file, too). Paths are compared as the file system sees them:
the same file (`os.path.samefile`: hard links, case variants on a case-insensitive disk) or the same real path
(symlinks and '..' resolved; the name compared without case where its folder ignores case). A write-protected
output (no write bit at all), a folder, or a file in a missing or unwritable folder is refused too: outputs are replaced by a
rename, which would ignore its mode. Overwriting an existing file that is none of these stays allowed: that is
what an output is for. A check that passes removes the temporary files an earlier run killed while writing these
outputs left beside them (`featurestore.files.remove_stale_temporaries`: its own names, of dead processes only).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from featurestore.errors import OutputRefused
from featurestore.files import remove_stale_temporaries
from featurestore.store.layout import StoreFiles

PathLike = str | os.PathLike


@dataclass
class CallFiles:
    """The files one call reads and writes; `check` refuses any clash before the call does any work.

    Attributes
    ----------
    reads : list of (what, Path)
        Inputs only read, e.g. ('the video', ep1.mp4), ('the labels file', labels.csv).
    stores : list of (param, Path, bool)
        Feature stores by their index file: the index, its shard folder and all in it are inputs; the bool says
        whether the call writes the store (embedding into it), so no input may lie in it either.
    writes : list of (param, Path, what)
        Outputs, by the parameter that asks for them; `what` tells a derived file ('the subtitles of ep1.mp4').
    """

    reads: list = field(default_factory=list)
    stores: list = field(default_factory=list)
    writes: list = field(default_factory=list)

    def read(self, what: str, *paths: PathLike | None) -> "CallFiles":
        """Add inputs (None and '-' skipped); returns self, to chain."""
        self.reads += [(what, Path(p)) for p in paths if p is not None and os.fspath(p) != "-"]
        return self

    def store(self, param: str, path: PathLike | None, *, written: bool = False) -> "CallFiles":
        """Add a feature store by its index file; `written`: the call embeds into it."""
        if path is not None:
            self.stores.append((param, Path(path), written))
        return self

    def write(self, param: str, *paths: PathLike | None, what: str = "", folder_made: bool = False) -> "CallFiles":
        """Add outputs of `param` (None and '-', standard output, skipped); `folder_made`: their folder may not exist yet
        (the call makes it: score's folder of subtitles), else it must exist and be writable."""
        self.writes += [(param, Path(p), what, folder_made) for p in paths if p is not None and os.fspath(p) != "-"]
        return self

    def copy(self) -> "CallFiles":
        return CallFiles(list(self.reads), list(self.stores), list(self.writes))

    def check(self) -> None:
        """Refuse, before any work, an output that would overwrite an input or another output.

        Raises
        ------
        OutputRefused
            Naming the output's parameter: it is an input (or in a store's folder), or shares its file with
            another output (`other` names that one's parameter). When none is refused, the outputs' stale
            temporary files (`featurestore.files.stale_temporaries`) are removed.
            A store the call writes (the store's parameter) is one of its inputs, or holds one in its folder.
        """
        ids = _FileIds()
        read_ids: dict[tuple, tuple] = {}
        for read_what, read in self.reads:
            for key in ids(read):
                read_ids.setdefault(key, (read_what, read))
        stores = [(param, index, written, ids(index), ids(_shard_dir(index))) for param, index, written in self.stores]
        written: dict[tuple, tuple] = {}
        for param, path, what, folder_made in self.writes:
            _refuse_unwritable(param, path, what, folder_made)
            keys = ids(path)
            if any(key in read_ids for key in keys):
                read_what, read = next(read_ids[key] for key in keys if key in read_ids)
                raise OutputRefused(param, f"{_told(path, what)} is {read_what}{_as_given(read, path)}, an input of this "
                                           "call; give another path (nothing was written)")
            for _, index, _, index_id, shard_id in stores:
                if keys & index_id or ids.inside(path, shard_id):
                    where = "the feature store" if keys & index_id else "in the folder of the feature store"
                    raise OutputRefused(param, f"{_told(path, what)} is {where} {index}; give another path (nothing "
                                               "was written)")
            if any(key in written for key in keys):
                other, earlier, earlier_what = next(written[key] for key in keys if key in written)
                if other == param:
                    raise OutputRefused(param, f"{path} would hold both {earlier_what or earlier} and {what or path}; "
                                               "give each video its own --name (nothing was written)")
                raise OutputRefused(param, f"{_told(path, what)} is also where {{other}} goes"
                                           f"{f' ({earlier_what})' if earlier_what else ''}; give each output its own "
                                           "path (nothing was written)", other=other)
            written.update(dict.fromkeys(keys, (param, path, what)))
        for param, index, is_written, index_id, shard_id in stores:
            for read_what, read in self.reads if is_written else ():
                keys = ids(read)
                if keys & index_id or ids.inside(read, shard_id):
                    where = "is" if keys & index_id else "has in its folder"
                    raise OutputRefused(param, f"the feature store {index} {where} {read_what} {read}, an input of this "
                                               "call; give the store another path (nothing was written)")
        remove_stale_temporaries(path for _, path, _, _ in self.writes)  # a kill -9 of an earlier run left them


def _refuse_unwritable(param: str, path: Path, what: str, folder_made: bool) -> None:
    """OutputRefused for an output that could not be written in the end: a folder, a write-protected file, or a file
    in a folder that does not exist or that this user may not write (compare-models ran its whole CV, then failed)."""
    if path.is_dir():
        raise OutputRefused(param, f"{_told(path, what)} is a folder; give a file name (nothing was written)")
    if _write_protected(path):
        raise OutputRefused(param, f"{_told(path, what)} is write-protected (mode {path.stat().st_mode & 0o777:o}): "
                                   "its owner keeps it as it is; make it writable (chmod u+w) or give another "
                                   "path (nothing was written)")
    folder = path.parent
    if not folder.is_dir():
        if not folder_made:
            raise OutputRefused(param, f"{_told(path, what)}: the folder {folder} does not exist; make it or give "
                                       "another path (nothing was written)")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise OutputRefused(param, f"{_told(path, what)}: the folder {folder} is not writable (read-only here); give "
                                   "another path (nothing was written)")


def _write_protected(path: Path) -> bool:
    """Whether `path` is a file with no write bit at all (chmod a-w: its owner keeps it). Outputs are replaced by a
    rename, which a writable folder allows whatever the file's mode; another member's 0644 file in a team's shared
    folder is no such wish (umask 022 gives every file that mode) and is replaced as before."""
    try:
        return path.is_file() and not path.stat().st_mode & 0o222
    except OSError:
        return False


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether `a` and `b` are (or would be) one file: they share a `file_ids` key."""
    return bool(file_ids(a) & file_ids(b))


def inside(path: PathLike, folder: PathLike) -> bool:
    """Whether `path` is `folder` or lies anywhere in it, after resolving symlinks and '..'."""
    return _FileIds().inside(path, file_ids(folder))


def file_ids(path: PathLike, ignores=None) -> frozenset:
    """What makes `path` one file: its `path_key` and, where it exists, its (device, inode) (hard links, a case
    variant on a disk that ignores case); two paths that share a key are one file."""
    keys = {("path", path_key(path, ignores))}
    try:
        st = os.stat(path)
        keys.add(("file", st.st_dev, st.st_ino))
    except (OSError, ValueError):  # not there (yet)
        pass
    return frozenset(keys)


def path_key(path: PathLike, ignores=None) -> str:
    """The real path of `path` (symlinks and '..' resolved, `os.path.normcase`), its name case-folded where
    its folder ignores case (`ignores(folder)`, default `ignores_case`)."""
    real = os.path.realpath(path)
    folder, name = os.path.split(real)
    if os.path.isdir(folder) and (ignores or ignores_case)(folder):
        name = name.casefold()
    return os.path.normcase(os.path.join(folder, name))


def ignores_case(folder: PathLike) -> bool:
    """Whether the file system holding `folder` (an existing folder) finds names whatever their case: an entry
    (or the folder itself) named with its case swapped is the same file. Without a name to try, the platform's
    default (case-insensitive on macOS and Windows)."""
    folder = Path(folder)
    try:
        entries = [Path(e.path) for e in islice(os.scandir(folder), 32)]
    except OSError:
        entries = []
    for entry in (*entries, folder):
        swapped = entry.with_name(entry.name.swapcase()) if entry.name else entry
        if swapped != entry:
            try:
                a, b = os.lstat(entry), os.lstat(swapped)
            except OSError:  # the swapped name is not there: names keep their case
                return False
            return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    return sys.platform in ("darwin", "win32")


class _FileIds:
    """`file_ids` of paths and `ignores_case` of folders, each asked once per check (a call may write thousands of
    subtitle files into one folder)."""

    def __init__(self):
        self._ids: dict[str, frozenset] = {}
        self._case: dict[str, bool] = {}

    def __call__(self, path: PathLike) -> frozenset:
        key = os.fspath(path)
        if key not in self._ids:
            self._ids[key] = file_ids(key, self._ignores)
        return self._ids[key]

    def _ignores(self, folder: str) -> bool:
        if folder not in self._case:
            self._case[folder] = ignores_case(folder)
        return self._case[folder]

    def inside(self, path: PathLike, folder_ids: frozenset) -> bool:
        """Whether `path`, or a folder it lies in (symlinks and '..' resolved), is the folder of `folder_ids`."""
        real = Path(os.path.realpath(path))
        return any(self(p) & folder_ids for p in (real, *real.parents))


def _shard_dir(index: Path) -> Path:
    return StoreFiles(index).shard_dir


def _told(path: Path, what: str) -> str:
    return f"{path} ({what})" if what else str(path)


def _as_given(read: Path, written: Path) -> str:
    """The input as the user named it, when that differs from how the output was named."""
    return "" if os.fspath(read) == os.fspath(written) else f" {read}"
