"""The house's rules (docs/architecture.md): layers, no import circles, modules of one concept, messages that name
the command as the user runs it."""

import ast
import subprocess
import sys

import pytest

from conftest import ROOT

PACKAGES = ("featurestore", "classifiers", "cartoons", "screentime")
MAX_MODULE_LINES = 400


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), i.e. the import circles."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_one_that_imports_it_back():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    edges = {m: {t for t in ts if not t.endswith("__init__")} for m, ts in edges.items()}
    packages = {m for m in graph.modules if (ROOT / m.replace(".", "/") / "__init__.py").exists()}
    # a package's __init__ re-exporting its modules lazily is not a circle: leave package nodes out
    edges = {m: ts - packages for m, ts in edges.items() if m not in packages}
    assert _cycles(edges) == []


def test_the_import_linter_contracts_hold():
    pytest.importorskip("importlinter")
    run = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout


def test_the_benches_import_no_circle():
    scripts = {p.stem: p for p in (ROOT / "bench").glob("*.py")}
    edges = {}
    for name, path in scripts.items():
        tree = ast.parse(path.read_text())
        imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        edges[name] = imported & set(scripts)
    assert _cycles(edges) == []


@pytest.mark.parametrize("package", PACKAGES + ("bench",))
def test_no_module_is_over_400_lines(package):
    long = {str(p.relative_to(ROOT)): n for p in (ROOT / package).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}
    assert len((ROOT / "cli.py").read_text().splitlines()) <= MAX_MODULE_LINES


def test_library_messages_never_name_python_cli_py():
    """An installed `screentime` user cannot run `python cli.py`: messages say `errors.command(...)` instead."""
    said = []
    for package in ("featurestore", "classifiers", "cartoons"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                          if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)) and n.body
                          and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
            said += [f"{path.relative_to(ROOT)}:{n.lineno}" for n in ast.walk(tree)
                     if isinstance(n, ast.Constant) and isinstance(n.value, str) and "python cli.py" in n.value
                     and id(n) not in docstrings]
    assert said == []
