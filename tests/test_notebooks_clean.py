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
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    setup, parameters = ("".join(c["source"]) for c in cells[:2])
    assert "TF_CPP_MIN_LOG_LEVEL" in setup and setup.index("TF_CPP_MIN_LOG_LEVEL") < setup.index("import tensorflow")
    # and the C++ start-up lines, printed before that setting is read, are muted too
    assert setup.index("import_tensorflow_quietly()") < setup.index("import tensorflow")
    assert "STYLETRANSFER_SMOKE" in parameters and "parameters" in cells[1].get("metadata", {}).get("tags", [])
