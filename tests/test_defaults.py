"""The commands' defaults are the library's defaults: `screentime compare-models` and `compare_models()` (and the
Python API) make the same model from the same labels, `score` and `score_videos()` the same intervals."""

import enum
import inspect

import pytest
import typer.main

import cli
import screentime.api
from classifiers.compare import compare_frames, compare_models
from classifiers.score import score_videos

#: command -> (library function, {CLI parameter: library parameter}) for options that are the same setting.
SAME_SETTING = {
    "compare-models": (compare_models, {
        "folds": "n_splits", "split": "split", "gap_s": "gap_s", "allow_leaky_split": "allow_leaky_split",
        "metric": "metric", "jobs": "n_jobs", "seed": "random_state", "feature_norm": "feature_norm",
        "context": "context_s", "multi_label": "multi_label", "selection": "selection", "intervals": "interval_method",
    }),
    "score": (score_videos, {"batch_size": "batch_size", "interval_level": "interval_level", "replace": "replace"}),
}


def cli_defaults(command: str) -> dict:
    click_command = typer.main.get_command(cli.app).commands[command]
    return {p.name: p.default for p in click_command.params}


def plain(value):
    return value.value if isinstance(value, enum.Enum) else value


@pytest.mark.parametrize("command", sorted(SAME_SETTING))
def test_each_command_option_defaults_to_what_the_library_does_without_it(command):
    function, mapping = SAME_SETTING[command]
    library = inspect.signature(function).parameters
    defaults = cli_defaults(command)
    differing = {cli_name: (plain(defaults[cli_name]), library[lib_name].default)
                 for cli_name, lib_name in mapping.items()
                 if str(plain(defaults[cli_name])) != str(library[lib_name].default)}
    assert not differing, f"{command}: CLI default vs library default: {differing}"


def test_compare_frames_and_the_python_api_share_the_selection_default():
    assert (inspect.signature(compare_frames).parameters["selection"].default
            == inspect.signature(compare_models).parameters["selection"].default)
    api = inspect.signature(screentime.api.compare_models).parameters
    assert api["folds"].default == inspect.signature(compare_models).parameters["n_splits"].default
