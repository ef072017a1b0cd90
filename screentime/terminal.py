"""The command line's typer classes: usage and help as the user ran the command (arguments as VIDEO..., examples
named after `prog`), and library refusals (`InvalidParameter`) as usage errors naming the option (exit status 2);
Ctrl-C, SIGTERM and SIGHUP as one line and exit status 130 (128 + the signal); what `--version` says.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from enum import Enum
from typing import Iterator

import typer
from typer.core import TyperCommand, TyperGroup

from featurestore.errors import InvalidParameter, OutputRefused


class HelpMixin:
    """Usage names arguments VIDEO... (not `{videos}...`); the epilog lists examples, run as the user ran us."""

    @staticmethod
    def _argument(param) -> str:
        name = (param.metavar or param.name.upper()) + ("..." if param.nargs != 1 else "")
        return name if param.required else f"[{name}]"

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(self._argument(param))
        if isinstance(self, TyperGroup):
            pieces.append(self.subcommand_metavar)
        return pieces

    def format_epilog(self, ctx, formatter) -> None:
        if not self.epilog:
            return
        prog = ctx.find_root().info_name or "screentime"
        formatter.write_paragraph()
        formatter.write_text("Examples:")
        with formatter.indentation():
            for line in self.epilog.strip().splitlines():
                formatter.write(f"{formatter.current_indent * ' '}{line.strip().format(prog=prog)}\n")


#: The option that sets each library parameter, so that a refused value is told as the user typed it.
OPTIONS = {
    "sample_fps": "--fps", "names": "--name", "batch_size": "--batch-size", "pooling": "--pooling",
    "image_size_px": "--image-size", "precision": "--precision", "decode": "--decode", "workers": "--workers",
    "report_path": "--report", "context_s": "--context-s", "models": "--models", "none_label": "--none-label",
    "feature_norm": "--feature-norm", "n_splits": "--folds", "gap_s": "--gap-s", "budget_s": "--budget-s",
    "interval_level": "--interval-level", "smooth": "--smooth", "json_path": "--json", "csv_path": "--csv",
    "plot_path": "--plot", "out_path": "--out", "sheet_path": "--sheet", "split": "--split", "metric": "--metric",
    "runtime": "--runtime", "backbone": "--backbone", "selection": "--selection", "interval_method": "--intervals",
    "label_studio_path": "--label-studio", "url_prefix": "--url-prefix",
    "vtt_path": "--vtt", "srt_path": "--srt", "store_path": "--store", "faces": "--faces", "min_score": "--face-min-score",
    "min_size_px": "--face-min-size-px", "min_quality": "--face-min-quality", "threshold": "--threshold",
}


def show_warnings(console) -> None:
    """Library warnings become one 'warning: ...' line each on `console` (a rich Console on stderr)."""
    import warnings

    warnings.showwarning = lambda message, category, *args, **kwargs: console.print(
        f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a job scheduler's timeout, `kill`) or SIGHUP (a closed terminal), raised in the main thread as
    Ctrl-C is, so the same cleanups run: worker processes stopped, temporary files removed, outputs left whole."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def stopping_cleanly_on_termination() -> Iterator[None]:
    """Inside, SIGTERM and SIGHUP raise `Terminated`; a second one kills at once. Ignored signals stay ignored
    (nohup); the handlers before are put back on leaving. Outside the main thread (no signals there) it does nothing."""
    def terminated(signum, frame):
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is terminated:
                signal.signal(sig, signal.SIG_DFL)
        raise Terminated(signum)

    main = threading.current_thread() is threading.main_thread()
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)} if main else {}
    for sig, handler in before.items():
        if handler is signal.SIG_DFL:
            signal.signal(sig, terminated)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def interrupted_line(err: KeyboardInterrupt) -> str:
    """What an interrupted command says (when its progress bar has not said where it stopped)."""
    what = f"terminated ({signal.Signals(err.signum).name})" if isinstance(err, Terminated) else "interrupted"
    return f"{what}; outputs are replaced only when all of them are complete; run the same command again"


class Command(HelpMixin, TyperCommand):
    def invoke(self, ctx):
        """The library refuses a parameter value: a usage error (exit status 2) naming the option. Interrupted:
        one line (unless the progress bar said where it stopped) and exit status 130, or 128 + SIGTERM/SIGHUP."""
        try:
            with stopping_cleanly_on_termination():
                return super().invoke(ctx)
        except InvalidParameter as err:
            message = err.told(lambda p: OPTIONS.get(p, p)) if isinstance(err, OutputRefused) else err.message
            raise typer.BadParameter(message, ctx=ctx, param_hint=OPTIONS.get(err.param, err.param)) from None
        except KeyboardInterrupt as err:
            if not getattr(err, "told", False):
                typer.echo(interrupted_line(err), err=True)
            raise typer.Exit(128 + (err.signum if isinstance(err, Terminated) else signal.SIGINT)) from None

    def format_options(self, ctx, formatter) -> None:
        """Arguments as in the usage line (VIDEO..., not 'VIDEO <list[Path]>'), then typer's option records."""
        args = [(self._argument(p), p.help or "") for p in self.get_params(ctx) if p.param_type_name == "argument"]
        opts = [p.get_help_record(ctx) for p in self.get_params(ctx) if p.param_type_name == "option"]
        for title, rows in (("Arguments", args), ("Options", [r for r in opts if r])):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class Group(HelpMixin, TyperGroup):
    pass


def choices(name: str, values) -> type[Enum]:
    """An Enum of the library's own list of values, so the CLI cannot drift from what the library accepts."""
    return Enum(name, [(v, v) for v in values], type=str)


def show_version(value: bool) -> None:
    """The --version option's callback: the version text, then exit."""
    if value:
        typer.echo(version_text())
        raise typer.Exit()


def version_text() -> str:
    """`--version`: screentime's version and those of the libraries that make the numbers, then what runs here."""
    from importlib import metadata

    from featurestore.embedding.backend import BACKEND_LIBRARIES
    from featurestore.embedding.runtime import describe_available
    from featurestore.provenance import library_versions

    try:
        version = metadata.version("screentime")
    except metadata.PackageNotFoundError:
        version = "(not installed: pip install -e .)"
    backend = BACKEND_LIBRARIES.get(os.environ.get("KERAS_BACKEND", "tensorflow"), ("tensorflow",))  # what embed runs on
    libs = library_versions((*backend, "keras", "openvino", "nncf", "scikit-learn", "lightgbm", "h5py",
                             "opencv-python-headless"))
    return f"screentime {version} (" + ", ".join(f"{k} {v}" for k, v in libs.items() if v) + ")\n" + describe_available()


#: Width of results written to a file or a pipe (not a terminal, no COLUMNS): rich would wrap tables at 80 (issue 26).
PIPE_WIDTH = 160


def results_console():
    """The console results are printed on: the terminal's width, COLUMNS when set, else `PIPE_WIDTH` in a pipe."""
    import os
    import sys

    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console()
    return Console(width=PIPE_WIDTH)
