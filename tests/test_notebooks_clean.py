"""Notebooks are committed without outputs or execution counts (see GUIDE.md, section 2).

Outputs make diffs unreadable and could carry pictures that may not be committed (the classic
paintings and photos). Strip them before committing, e.g. with
``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``.
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_notebooks():
    assert len(PATHS) >= 5


@pytest.mark.parametrize("path", PATHS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_notebook_is_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        f"cell {i}: " + ", ".join(
            what for what, bad in (("outputs", cell.get("outputs")),
                                   ("execution count", cell.get("execution_count") is not None)) if bad)
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name} has outputs; run: jupyter nbconvert --clear-output --inplace {path}\n" + "\n".join(dirty)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_notebook_opens_with_setup_and_parameters(path):
    """The set-up cell is a few lines around ``notebook.setup()``, called before TensorFlow or
    Keras is imported (so their start-up lines are muted); the parameters cell reads smoke mode."""
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    setup, parameters = ("".join(c["source"]) for c in cells[:2])
    assert "lesson = setup()" in setup
    for heavy in ("import tensorflow", "import keras"):
        assert heavy not in setup or setup.index("lesson = setup()") < setup.index(heavy), f"{heavy} before setup()"
    code = [line for line in setup.splitlines() if line.strip() and not line.lstrip().startswith(("#", "%"))]
    assert len(code) <= 15, f"the set-up cell has {len(code)} lines of code: keep it to a few around setup()"
    assert "SMOKE = lesson.smoke" in parameters and "parameters" in cells[1].get("metadata", {}).get("tags", [])
