"""Which paths a call writes and reads, checked together before any work (issue 23): `CallFiles`.

Every job (embed, score and `Score.write`, compare-models, suggest-labels) lists what it reads -- videos, labels
files, the model, a weights file, the feature store with its shard folder -- and what it writes, then calls
`CallFiles.check`, which refuses in one line (`OutputRefused`, an `InvalidParameter` naming the output's
parameter) an output that is one of the inputs, lies in a store's shard folder, or is another output of the same
call (two videos whose subtitles would share one file, too). Paths are compared as the file system sees them:
the same file (`os.path.samefile`: hard links, case variants on a case-insensitive disk) or the same real path
(symlinks and '..' resolved; the name compared without case where its folder ignores case). Overwriting an
existing file that is none of these stays allowed: that is what an output is for.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from featurestore.errors import OutputRefused
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

    def write(self, param: str, *paths: PathLike | None, what: str = "") -> "CallFiles":
        """Add outputs of `param` (None and '-', standard output, skipped)."""
        self.writes += [(param, Path(p), what) for p in paths if p is not None and os.fspath(p) != "-"]
        return self

    def copy(self) -> "CallFiles":
        return CallFiles(list(self.reads), list(self.stores), list(self.writes))

    def check(self) -> None:
        """Refuse, before any work, an output that would overwrite an input or another output.

        Raises
        ------
        OutputRefused
            Naming the output's parameter: it is an input (or in a store's folder), or shares its file with
            another output (`other` names that one's parameter).
            A store the call writes (the store's parameter) is one of its inputs, or holds one in its folder.
        """
        for i, (param, path, what) in enumerate(self.writes):
            for read_what, read in self.reads:
                if same_file(path, read):
                    raise OutputRefused(param, f"{_told(path, what)} is {read_what}{_as_given(read, path)}, an input of "
                                               "this call; give another path (nothing was written)")
            for _, index, _ in self.stores:
                if same_file(path, index) or inside(path, _shard_dir(index)):
                    where = "the feature store" if same_file(path, index) else "in the folder of the feature store"
                    raise OutputRefused(param, f"{_told(path, what)} is {where} {index}; give another path (nothing "
                                               "was written)")
            for other, earlier, earlier_what in self.writes[:i]:
                if same_file(path, earlier):
                    if other == param:
                        raise OutputRefused(param, f"{path} would hold both {earlier_what or earlier} and {what or path}; "
                                                   "give each video its own --name (nothing was written)")
                    raise OutputRefused(param, f"{_told(path, what)} is also where {{other}} goes"
                                               f"{f' ({earlier_what})' if earlier_what else ''}; give each output its "
                                               "own path (nothing was written)", other=other)
        for param, index, written in self.stores:
            if not written:
                continue
            for read_what, read in self.reads:
                if same_file(read, index) or inside(read, _shard_dir(index)):
                    where = "is" if same_file(read, index) else "has in its folder"
                    raise OutputRefused(param, f"the feature store {index} {where} {read_what} {read}, an input of this "
                                               "call; give the store another path (nothing was written)")


def same_file(a: PathLike, b: PathLike) -> bool:
    """Whether `a` and `b` are (or would be) one file: `os.path.samefile` where both exist, else the same real
    path, symlinks and '..' resolved, the name compared without case where its folder ignores case."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):  # one is not there (yet)
        return path_key(a) == path_key(b)


def inside(path: PathLike, folder: PathLike) -> bool:
    """Whether `path` is `folder` or lies anywhere in it, after resolving symlinks and '..'."""
    real = Path(os.path.realpath(path))
    if not os.path.isdir(folder):  # nothing can be in it yet, but a path may name it
        return same_file(real, folder)
    return any(os.path.exists(p) and os.path.samefile(p, folder) for p in (real, *real.parents))


def path_key(path: PathLike) -> str:
    """The real path of `path` (symlinks and '..' resolved, `os.path.normcase`), its name case-folded where
    its folder ignores case: equal keys mean one file."""
    real = os.path.realpath(path)
    folder, name = os.path.split(real)
    if os.path.isdir(folder) and ignores_case(folder):
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


def _shard_dir(index: Path) -> Path:
    return StoreFiles(index).shard_dir


def _told(path: Path, what: str) -> str:
    return f"{path} ({what})" if what else str(path)


def _as_given(read: Path, written: Path) -> str:
    """The input as the user named it, when that differs from how the output was named."""
    return "" if os.fspath(read) == os.fspath(written) else f" {read}"
