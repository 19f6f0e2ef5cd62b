"""The project's layout rules, read from the source with `ast` (nothing is imported, no model loads): a
flat distill/ of few modules, short modules, functions and bench classes, no import circle, one home for
the run files' names, and bench/ and scripts/ run as modules of the project, never patching sys.path.
Each failure names every offender as file:line."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the project's root: cli.py, bench/, scripts/
LIBRARY = ("augment", "distill", "data", "glove", "commands", "cli.py")
TOOLS = ("bench", "scripts")
RUN_FILES = "distill/runs/files.py"  # the one library module that names the files of a run folder

MAX_DISTILL_MODULES = 8
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
MAX_BENCH_CLASS_LINES = 200


def python_files(places: tuple[str, ...], root: Path = ROOT) -> list[Path]:
    """The .py files of each place: a folder (searched through its subfolders) or a single file."""
    files = []
    for place in places:
        path = root / place
        files += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return files


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def where(path: Path, line: int, root: Path = ROOT) -> str:
    return f"{path.relative_to(root).as_posix()}:{line}"


def long_definitions(files: list[Path], kinds: tuple[type, ...], limit: int, root: Path = ROOT) -> list[str]:
    """'file:line name (N lines)' for each definition of these kinds longer than `limit` lines, counted
    from its `def`/`class` line to its last line (docstring and comments included, decorators not)."""
    found = []
    for path in files:
        for node in ast.walk(parsed(path)):
            if isinstance(node, kinds) and node.end_lineno - node.lineno + 1 > limit:
                found.append(
                    f"{where(path, node.lineno, root)} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
                )
    return found


def module_name(path: Path, root: Path = ROOT) -> str:
    """bench/frontier.py -> bench.frontier, augment/sources/__init__.py -> augment.sources."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]) -> list[str]:
    """The project modules an import statement of module `importer` reaches: `from X import a` reaches
    X.a when that is a module, else X (relative imports resolved against the importer's package);
    `import X` reaches X (or, for a name that is no module, its longest prefix that is one)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = importer.split(".") if is_package else importer.split(".")[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join(package + ([node.module] if node.module else []))
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    reached = []
    for target in targets:
        parts = target.split(".")
        prefixes = [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
        reached += [next((prefix for prefix in prefixes if prefix in modules), None)]
    return [module for module in reached if module is not None and module != importer]


def import_graph(files: list[Path], root: Path = ROOT) -> dict[str, dict[str, int]]:
    """module -> {imported project module: line of its first import}, imports inside functions and
    `if TYPE_CHECKING:` blocks included (a circle broken by a late import is still a circle)."""
    modules = {module_name(path, root): path for path in files}
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for node in ast.walk(parsed(path)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in imported(node, name, path.name == "__init__.py", set(modules)):
                    edges.setdefault(target, node.lineno)
    return graph


def import_circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module: each module reaches every other."""
    reach = {}
    for start in graph:
        seen, todo = {start}, [start]
        while todo:
            for target in graph[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        reach[start] = seen
    circles = {frozenset(m for m in reach[start] if start in reach[m]) for start in graph}
    return sorted(sorted(circle) for circle in circles if len(circle) > 1)


def string_constants(files: list[Path], value: str, root: Path = ROOT) -> dict[str, list[str]]:
    """file -> ['file:line', ...] for each string constant exactly equal to `value` (a docstring or an
    f-string with it inside longer text is not one)."""
    found: dict[str, list[str]] = {}
    for path in files:
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.Constant) and node.value == value:
                found.setdefault(path.relative_to(root).as_posix(), []).append(where(path, node.lineno, root))
    return found


def test_distill_holds_at_most_8_modules_directly():
    modules = sorted(path.name for path in (ROOT / "distill").glob("*.py"))
    assert len(modules) <= MAX_DISTILL_MODULES, (
        f"distill/ holds {len(modules)} modules directly (at most {MAX_DISTILL_MODULES}, __init__.py counted): "
        f"{', '.join(modules)}; move some into a subpackage"
    )


def test_no_module_over_400_lines():
    long = []
    for path in python_files(LIBRARY + TOOLS):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long.append(f"{where(path, 1)} ({lines} lines)")
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_no_function_over_60_lines():
    long = long_definitions(python_files(LIBRARY + TOOLS), (ast.FunctionDef, ast.AsyncFunctionDef), MAX_FUNCTION_LINES)
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)


def test_no_bench_class_over_200_lines():
    long = long_definitions(python_files(("bench",)), (ast.ClassDef,), MAX_BENCH_CLASS_LINES)
    assert not long, f"bench/ classes over {MAX_BENCH_CLASS_LINES} lines:\n" + "\n".join(long)


def test_no_import_circle_among_the_project_modules():
    files = python_files(LIBRARY + TOOLS)
    graph, paths = import_graph(files), {module_name(path): path for path in files}
    circles = import_circles(graph)
    described = [
        "circle: "
        + ", ".join(
            f"{module} -> {target} ({where(paths[module], line)})"
            for module in circle
            for target, line in graph[module].items()
            if target in circle
        )
        for circle in circles
    ]
    assert not circles, "modules that import each other, directly or around a circle:\n" + "\n".join(described)


@pytest.mark.parametrize("name", ["report.json", "settings.json"])
def test_run_file_names_are_written_only_in_distill_runs_files(name):
    """Everything else asks distill/runs/files.py for the path, so a renamed file is renamed once."""
    in_library = string_constants(python_files(LIBRARY), name)
    in_tools = string_constants(python_files(TOOLS), name)
    elsewhere = [hit for file, hits in {**in_library, **in_tools}.items() if file != RUN_FILES for hit in hits]
    assert RUN_FILES in in_library, f"{RUN_FILES} no longer names {name!r}: update RUN_FILES in this test"
    assert not elsewhere, f"{name!r} spelled outside {RUN_FILES} (use its helpers):\n" + "\n".join(elsewhere)


def test_bench_and_scripts_never_touch_sys_path():
    """They run as modules of the project (python -m bench.x), so they need no sys.path edits."""
    found = [
        f"{where(path, number)}: {line.strip()}"
        for path in python_files(TOOLS)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "sys.path" in line
    ]
    assert not found, "sys.path in bench/ or scripts/:\n" + "\n".join(found)


def test_the_checks_find_what_they_look_for(tmp_path):
    """The checkers on a small tree of known faults: a circle through relative imports, a long function,
    the name constant beside a docstring and an f-string that merely contain it."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("from .sub import helper\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "helper.py").write_text("from .. import other\n")  # pkg.sub.helper -> pkg.other
    (package / "other.py").write_text("import pkg.sub.helper\n\n\ndef f():\n" + "    pass\n" * 60)
    (package / "names.py").write_text('"""Writes report.json."""\nA = f"{1}/report.json"\nB = "report.json"\n')
    files = python_files(("pkg",), tmp_path)
    graph = import_graph(files, tmp_path)
    assert graph["pkg"] == {"pkg.sub.helper": 1} and graph["pkg.sub.helper"] == {"pkg.other": 1}
    assert import_circles(graph) == [["pkg.other", "pkg.sub.helper"]]
    assert long_definitions(files, (ast.FunctionDef,), 60, tmp_path) == ["pkg/other.py:4 f (61 lines)"]
    assert long_definitions(files, (ast.FunctionDef,), 61, tmp_path) == []
    assert string_constants(files, "report.json", tmp_path) == {"pkg/names.py": ["pkg/names.py:3"]}
