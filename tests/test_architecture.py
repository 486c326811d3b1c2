"""The package's shape: one concept per module, no import cycles, the CLI imported by no one.

These read the source (``ast``), so they run in milliseconds and need no TensorFlow.
"""

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "styletransfer_utils"
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Package modules that ``path`` imports anywhere (module level or inside functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("styletransfer_utils")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("styletransfer_utils"):
                target = node.module
            else:
                continue
            for alias in node.names:  # "from . import x" may name a module
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _is_module(candidate) else target)
    return {m for m in found if _is_module(m)} - {name}


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        graph[_module_name(path)] = _imports(path)
    # importing a submodule runs its package's __init__ too, but that is no dependency of the
    # submodule's code: a package's __init__ that re-exports its submodules is not a cycle
    return graph


def _cycle(graph) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + ".") and node in graph and (ROOT / Path(*node.split(".")) / "__init__.py").is_file():
                continue  # a package re-exporting its own submodules
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles():
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines: split it by concept (at most {MAX_LINES})"


def _sources_outside_the_cli():
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "bench").glob("*.py"), *(ROOT / "tests").glob("*.py")]:
        if path.name in ("cli.py", "test_architecture.py") or path.name.startswith("test_cli") or path.name == "helpers.py":
            continue
        yield path, path.read_text()
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(path.read_text())["cells"]
        yield path, "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def test_nothing_but_the_command_line_imports_the_cli():
    """Helpers the CLI uses live in the layer that owns them (``data``, ``images``); a test that
    runs the command through ``cli.main`` is the exception (tests of commands)."""
    offenders = []
    for path, text in _sources_outside_the_cli():
        for line in text.splitlines():
            if "styletransfer_utils.cli import" in line and "import main" not in line:
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert not offenders, "imports from the CLI: " + "; ".join(offenders)


def test_the_loss_formulas_live_only_in_losses():
    """Gram matrices, content and TV losses are written once (``losses.py``); everything else
    composes them through ``objective.Objective``."""
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "bench").glob("*.py")]:
        if path.name == "losses.py":
            continue
        text = path.read_text()
        assert "einsum(" not in text, f"{path.name} computes a Gram matrix itself: use losses.gram_matrix"
        assert "def content_loss" not in text and "def gram" not in text, f"{path.name} restates a loss"


def test_every_module_is_listed_in_its_package_docstring():
    """The folder tree is the architecture, and each package's docstring is its map."""
    for init in [PACKAGE / "__init__.py", *PACKAGE.glob("*/__init__.py")]:
        doc = ast.get_docstring(ast.parse(init.read_text()), clean=False)
        for path in init.parent.glob("*.py"):
            if path.name != "__init__.py":
                assert f"\n    {path.stem} " in doc, f"{path.stem} is missing from {init.relative_to(ROOT)}'s docstring"
        for sub in init.parent.glob("*/__init__.py"):
            assert f"\n    {sub.parent.name}/ " in doc, f"{sub.parent.name}/ is missing from {init.relative_to(ROOT)}'s docstring"


#: Who may not import whom: the method (core, gatys, feedforward) never reaches up into the lessons,
#: the measures or the command line; of the two methods only the networks may use Gatys (to score a
#: network against the Gatys picture). "base" (errors, limits, files, device) is everyone's and
#: imports no package; "shared" (settings, data) may use the core.
FORBIDDEN = {
    "base": ("core", "shared", "gatys", "feedforward", "lessons", "measure", "cli", "gallery"),
    "core": ("shared", "gatys", "feedforward", "lessons", "measure", "cli", "gallery"),
    "shared": ("gatys", "feedforward", "lessons", "measure", "cli", "gallery"),
    "gatys": ("feedforward", "lessons", "measure", "cli", "gallery"),
    "feedforward": ("lessons", "measure", "cli", "gallery"),
    "measure": ("lessons", "cli", "gallery"),
    "lessons": ("cli", "gallery"),
}
LAYER_OF = {"errors": "base", "checks": "base", "limits": "base", "files": "base", "device": "base", "settings": "shared", "data": "shared"}
#: the one edge up the layers: Settings checks ``size_steps`` against the schedule's plain arithmetic
ALLOWED = {("styletransfer_utils.settings", "styletransfer_utils.gatys.schedule")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return LAYER_OF.get(parts[1], parts[1])


def test_the_method_never_imports_the_lessons_the_measures_or_the_command_line():
    offenders = []
    for module, imports in _graph().items():
        layer = _layer(module)
        for target in imports:
            if layer in FORBIDDEN and _layer(target) in FORBIDDEN[layer] and (module, target) not in ALLOWED:
                offenders.append(f"{module} imports {target}")
    assert not offenders, "; ".join(sorted(offenders))


def test_the_layer_rules_catch_a_forbidden_import():
    assert "lessons" in FORBIDDEN[_layer("styletransfer_utils.gatys.run")]
    assert _layer("styletransfer_utils.lessons.widgets") == "lessons"
    assert _layer("styletransfer_utils.settings") == "shared" and "shared" in FORBIDDEN["core"]
    assert "styletransfer_utils.gatys.schedule" in _graph()["styletransfer_utils.settings"]  # the allowed edge is real
