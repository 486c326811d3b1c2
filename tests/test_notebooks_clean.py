"""Notebooks are committed without outputs or execution counts (see GUIDE.md, section 2).

Outputs make diffs unreadable and could carry pictures that may not be committed (the classic
paintings and photos). Strip them before committing, e.g. with
``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``.

The one exception is what nbval compares: a cell that starts with ``# NBVAL_CHECK_OUTPUT``
stores its printed text (and only text), since a check cell with no stored output checks nothing,
and an execution count of 1 (nbval skips comparing a cell it believes was never run).
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_notebooks():
    assert len(PATHS) >= 5


CHECK = "# NBVAL_CHECK_OUTPUT"


def is_check_cell(cell) -> bool:
    return cell["cell_type"] == "code" and "".join(cell["source"]).lstrip().startswith(CHECK)


def is_text(output) -> bool:
    return output.get("output_type") == "stream" and output.get("name") == "stdout"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_notebook_is_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        f"cell {i}: " + ", ".join(
            what for what, bad in (("outputs", cell.get("outputs")),
                                   ("execution count", cell.get("execution_count") is not None)) if bad)
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and not is_check_cell(cell)
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, f"{path.name} has outputs; run: jupyter nbconvert --clear-output --inplace {path}\n" + "\n".join(dirty)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_check_cells_store_their_printed_text(path):
    """nbval compares a marked cell's output with the stored one: it must be there, and be text only."""
    cells = [(i, c) for i, c in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]) if is_check_cell(c)]
    for i, cell in cells:
        outputs = cell.get("outputs") or []
        assert outputs, f"{path.name} cell {i} is marked {CHECK} but stores no output, so nothing is compared"
        assert all(map(is_text, outputs)), f"{path.name} cell {i} stores more than printed text"
        assert cell.get("execution_count") == 1, f"{path.name} cell {i}: store execution_count 1, as nbval needs"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: str(p.relative_to(NOTEBOOKS)))
def test_notebook_opens_with_setup_and_parameters(path):
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    setup, parameters = ("".join(c["source"]) for c in cells[:2])
    assert "TF_CPP_MIN_LOG_LEVEL" in setup and setup.index("TF_CPP_MIN_LOG_LEVEL") < setup.index("import tensorflow")
    # and the C++ start-up lines, printed before that setting is read, are muted too
    assert setup.index("import_tensorflow_quietly()") < setup.index("import tensorflow")
    assert "STYLETRANSFER_SMOKE" in parameters and "parameters" in cells[1].get("metadata", {}).get("tags", [])
