"""README.md and docs/: the promises other programs and users rely on, checked against what the code does.

The README is the front door (short, the set-up commands first); docs/ holds the detail. Every page may name
only files, modules and pages that exist, so that moving code cannot leave the docs pointing at nothing.
"""

import ast
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 4,
          "preprocess": "resize_area+vgg16.preprocess_input(rgb)"}

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
MAX_README_LINES = 250
SETUP_COMMANDS = [
    "pip install -e . && python cli.py demo                      # the whole job on generated cartoons, offline, a few minutes",
    "pip install -e '.[test]' && python -m pytest -q             # the test suite (needs ffmpeg for some videos; .ci/run installs it)",
]
FIVE_COMMANDS = ["embed", "compare-models", "score", "suggest-labels", "check-store"]
DOC_PAGES = ["embed", "backbones", "ray", "compare-models", "score", "suggest-labels", "cluster", "check-store", "labels", "store",
             "faces", "benchmarks", "architecture"]
PACKAGES = ("featurestore", "classifiers", "cartoons", "screentime")
SCRIPT_FOLDERS = ("bench", "tests")  # folders of scripts, not packages: named by path
ROOTS = "|".join(PACKAGES + SCRIPT_FOLDERS)
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```\s*$", re.S | re.M)
PATH = re.compile(rf"(?<![\w./~-])(?:{ROOTS})/[\w./-]*")
DOTTED = re.compile(rf"(?<![\w./~-])(?:{ROOTS})(?:\.[A-Za-z_]\w*)+")
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)")


# ---------------------------------------------------------------------------------------------- helpers


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced code block, in order."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def prose(text: str) -> str:
    """The text outside fenced code blocks."""
    return FENCE.sub("", text)


def code_spans(text: str) -> list[str]:
    """Every `inline code` span outside fenced blocks."""
    return re.findall(r"`([^`\n]+)`", prose(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a page's headings (a repeated heading gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *#* *$", prose(text), re.M):
        s = slug(heading)
        found.add(f"{s}-{seen[s]}" if s in seen else s)
        seen[s] = seen.get(s, 0) + 1
    return found


def broken_links(page: Path, text: str) -> list[str]:
    """Relative links of `text` (living at `page`) to a file that does not exist, or to a heading it lacks."""
    broken = []
    for target in LINK.findall(prose(text)):
        if re.match(r"[a-z][a-z+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text()):
            broken.append(f"{target} (no such heading)")
    return broken


def resolves(name: str) -> bool:
    """Whether a dotted name is a module of this project, or an attribute of one (package.module.Class.method)."""
    parts = name.split(".")
    if parts[0] in SCRIPT_FOLDERS:
        return (ROOT / parts[0] / f"{parts[1]}.py").is_file()
    for n in range(len(parts), 0, -1):
        module_name = ".".join(parts[:n])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name is not None and (module_name == err.name or module_name.startswith(err.name + ".")):
                continue  # not a module: try the name as an attribute of its parent
            raise
        try:
            for attr in parts[n:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def path_exists(path: str) -> bool:
    """Whether a repository path (a file, or a folder when it ends in '/') exists."""
    path = path.rstrip(".")
    return (ROOT / path).is_dir() if path.endswith("/") else (ROOT / path).exists()


def named_in(text: str) -> tuple[set[str], set[str]]:
    """Repository paths and dotted module names a page mentions: in `code spans`, in code blocks, and the
    modules and names that its Python blocks import."""
    spans = code_spans(text)
    blocks = fenced_blocks(text)
    paths = {p for s in spans + [body for _, body in blocks] for p in PATH.findall(s)}
    names = {n for s in spans for n in DOTTED.findall(s)}
    for module, imported in (m for s in spans for m in re.findall(r"\bfrom ([\w.]+) import ([\w, ]+)", s)):
        if module.split(".")[0] in PACKAGES:
            names |= {f"{module}.{a.strip()}" for a in imported.split(",")}
    for language, body in blocks:
        if language != "python":
            continue
        for node in ast.walk(ast.parse(body)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                names |= {f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {a.name for a in node.names if a.name.split(".")[0] in PACKAGES}
    return paths, names


# ------------------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("page", ["README.md", "docs/store.md"])
def test_the_fs_videos_snippet_lists_its_columns(tmp_path, page):
    store = FeatureStore(tmp_path / "f.h5", mode="a", config=CONFIG)
    t = np.arange(3.0)
    store.put("a.mp4", requested_s=t, actual_s=t, features=np.zeros((3, 4), np.float32),
              info={"sample_fps": 1.0, "duration_s": 3.0, "fps": 10.0, "frame_count": 30, "width": 64, "height": 48,
                    "source_path": "/videos/a.mp4", "embedded_at": "2026-01-01T00:00:00+00:00"})
    df = FeatureStore(tmp_path / "f.h5").videos()
    text = (ROOT / page).read_text()
    block = text[text.index("fs.videos()"):text.index("t, X = fs.load")]
    words = {"unless", "the", "video", "is", "damaged", "and", "store", "s", "config"}  # the page's words, not columns
    documented = [w for w in re.findall(r"[a-z_]+", block.split("indexed by video:")[1]) if w not in words]
    assert df.index.name == "video" and documented == list(df.columns)


def test_the_readme_is_a_front_door():
    text = README.read_text()
    assert len(text.splitlines()) <= MAX_README_LINES
    blocks = fenced_blocks(text)
    bash = [body for language, body in blocks if language == "bash"]
    assert blocks[0][0] == "bash", "the set-up commands come before any other code"
    assert bash[0].splitlines() == SETUP_COMMANDS
    # then the five commands, in the order of the job, each as the installed command
    five = next(body for body in bash[1:] if "embed" in body)
    commands = re.findall(r"^screentime ([\w-]+)", five, re.M)
    assert commands == FIVE_COMMANDS
    assert "python -m screentime" in text
    headings = re.findall(r"^## +(.+)$", prose(text), re.M)
    order = ["The job in five commands", "The demo", "Exit status", "The feature store", "Where to go next", "Measured"]
    at = [next(i for i, h in enumerate(headings) if h.startswith(o)) for o in order]
    assert at == sorted(at), headings


def test_the_readme_links_every_docs_page():
    links = set(LINK.findall(prose(README.read_text())))
    assert {f"docs/{p}.md" for p in DOC_PAGES} <= links
    assert {p.stem for p in (ROOT / "docs").glob("*.md")} == set(DOC_PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_that_exists(page):
    assert broken_links(page, page.read_text()) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_and_file_named_exists(page):
    paths, names = named_in(page.read_text())
    assert sorted(p for p in paths if not path_exists(p)) == []
    assert sorted(n for n in names if not resolves(n)) == []


COMMAND_LINE = re.compile(r"(?:screentime|python cli\.py|python -m screentime) ([a-z][\w-]*)((?:\\\n|[^\n`|])*)")
BENCH_LINE = re.compile(r"bench/(\w+\.py)((?:\s+--[\w-]+(?:[ =][^\s`)|]+)?)*)")
OPTION = re.compile(r"(?<![\w-])--[a-z][\w-]*")


def command_options() -> dict[str, set[str]]:
    """Every option of every command of the CLI, by command name (from typer's click commands)."""
    import typer.main

    import cli

    group = typer.main.get_command(cli.app)
    return {name: {o for p in command.params for o in p.opts + p.secondary_opts} | {"--help"}
            for name, command in group.commands.items()}


def unknown_options(text: str, commands: dict[str, set[str]]) -> list[str]:
    """'command --option' for each option a command line of the page gives that the command does not have
    (lines of fenced blocks and code spans; a trailing backslash continues a line)."""
    found = []
    spans = re.finditer(rf"`({'|'.join(map(re.escape, commands))}) ([^`\n]*)`", text)  # `embed --faces`
    for m in [*COMMAND_LINE.finditer(text), *spans]:
        command, rest = m.group(1), m.group(2).split("#")[0]
        if command in commands:
            found += [f"{command} {o}" for o in OPTION.findall(rest) if o not in commands[command]]
    return found


def unknown_bench_options(text: str) -> list[str]:
    """'bench/script.py --option' for each option the page gives a bench script that the script never names."""
    found = []
    for m in BENCH_LINE.finditer(text):
        script = ROOT / "bench" / m.group(1)
        source = script.read_text() if script.is_file() else ""
        if "add_common_args" in source:
            source += (ROOT / "bench" / "_common.py").read_text()
        found += [f"bench/{m.group(1)} {o}" for o in OPTION.findall(m.group(2)) if f'"{o}"' not in source
                  and f"'{o}'" not in source]
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_option_a_command_line_gives_exists(page):
    text = page.read_text()
    assert unknown_options(text, command_options()) == []
    assert unknown_bench_options(text) == []


def test_the_option_check_catches_an_option_that_is_gone():
    text = ("```bash\nscreentime embed a.mp4 --fps 2 --no-such \\\n    --store f.h5 --gone   # --not-this\n```\n"
            "`screentime score x.mp4 --json -` and `bench/scale.py --quick --nope`, `compare-models --faces --old`")
    assert unknown_options(text, command_options()) == ["embed --no-such", "embed --gone", "compare-models --old"]
    assert unknown_bench_options(text) == ["bench/scale.py --nope"]


DEFAULT_SAID = re.compile(r"`(--[a-z][\w-]*)(?: [A-Z]+)?`,? \(?default:? `?([\w.]+)"  # `--fps`, default 1
                          r"|`(--[a-z][\w-]*) ([\w.-]+)`,? \(?(?:the )?default\b")  # `--selection best` (the default)


def command_defaults() -> dict[str, list]:
    """Each option's defaults over the commands that have it (None where a command leaves it to its help)."""
    import typer.main

    import cli

    found: dict[str, list] = {}
    for command in typer.main.get_command(cli.app).commands.values():
        for param in command.params:
            for opt in param.opts:
                found.setdefault(opt, []).append(param.default)
    return found


def wrong_defaults(text: str, defaults: dict[str, list]) -> list[str]:
    """'--option V' for each default a page gives an option that no command with that option has."""
    def same(said: str, value) -> bool:
        try:
            return float(said) == float(value)
        except (TypeError, ValueError):
            return said == str(getattr(value, "value", value))

    wrong = []
    for m in DEFAULT_SAID.finditer(prose(text)):
        option, said = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        known = [d for d in defaults.get(option, []) if d is not None]
        if known and not any(same(said, d) for d in known):
            wrong.append(f"{option} {said}")
    return wrong


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_defaults_a_page_names_are_the_commands(page):
    assert wrong_defaults(page.read_text(), command_defaults()) == []


def test_the_defaults_check_catches_a_changed_default():
    text = "`--fps`, default 3; `--interval-level` (default 0.9); `--selection one-se` (the default); `--gap-s 5` (default)"
    assert wrong_defaults(text, command_defaults()) == ["--fps 3", "--selection one-se"]


def rows_cut_off_their_table(text: str) -> list[int]:
    """Line numbers of table rows that a blank line cuts off the table above (they show as plain text, not a row):
    a row after a blank line after a row, which is not the header of a table of its own."""
    lines = prose(text).split("\n") + [""]
    return [i + 1 for i in range(2, len(lines) - 1)
            if lines[i].startswith("|") and not lines[i - 1].strip() and lines[i - 2].startswith("|")
            and not re.match(r"\|\s*:?-{3}", lines[i + 1])]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_table_row_is_cut_off_its_table_by_a_blank_line(page):
    assert rows_cut_off_their_table(page.read_text()) == []


def test_a_row_after_a_blank_line_is_caught_and_a_second_table_is_not():
    one = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n"
    two = "| a | b |\n|---|---|\n| 1 | 2 |\n\n| c | d |\n|---|---|\n| 3 | 4 |\n"
    assert rows_cut_off_their_table(one) == [5] and rows_cut_off_their_table(two) == []


def modules_in_the_tree(text: str) -> set[str]:
    """The .py files the rooms tree of docs/architecture.md names, as repository paths (4 spaces a level)."""
    tree = next(body for _, body in fenced_blocks(text) if re.search(r"^featurestore/", body, re.M))
    folders: list[str] = []
    found = set()
    for indent, name in re.findall(r"^( *)(\S+)", tree, re.M):
        level = len(indent) // 4
        del folders[level:]
        if name.endswith("/"):
            folders.append(name)
        elif name.endswith(".py"):
            found.add("".join(folders) + name)
    return found


def test_the_architecture_page_names_every_module():
    """docs/architecture.md gives one line per module: a module added, moved or removed must be told there."""
    documented = modules_in_the_tree((ROOT / "docs" / "architecture.md").read_text())
    actual = {str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")}
    actual = {p for p in actual if not p.endswith("__init__.py") or p == "screentime/__init__.py"} | {"cli.py"}
    assert sorted(actual - documented) == [] and sorted(documented - actual) == []


def test_the_checks_catch_moved_modules_and_broken_links(tmp_path):
    """The checks above can fail: old module paths, missing files and missing headings are caught."""
    old = ("`classifiers/spans.py` and `featurestore.labels.matching_ids`, `classifiers.persist`,\n"
           "`featurestore.store.store.FeatureStore.no_such_method`; good: `classifiers/active/spans.py`,\n"
           "`classifiers.data.join.matching_ids`, `featurestore.verify_store(path)`, `from classifiers import nope`.\n\n"
           "```python\nfrom classifiers import no_such_name\n```\n")
    paths, names = named_in(old)
    assert sorted(p for p in paths if not path_exists(p)) == ["classifiers/spans.py"]
    assert sorted(n for n in names if not resolves(n)) == [
        "classifiers.no_such_name", "classifiers.nope", "classifiers.persist", "featurestore.labels.matching_ids",
        "featurestore.store.store.FeatureStore.no_such_method"]
    page = tmp_path / "page.md"
    text = "# A page\n\n## Error bars: `--interval-level`\n\n[a](#error-bars---interval-level) [b](#nowhere) " \
           "[c](missing.md) [d](page.md#a-page) [e](https://example.org/x)\n\n```bash\n[x](inside-code.md)\n```\n"
    page.write_text(text)
    assert broken_links(page, text) == ["#nowhere (no such heading)", "missing.md (no such file)"]
