"""Repository-wide pytest set-up, loaded before anything is collected.

* Notebooks run in smoke mode (small pictures, few steps) unless the caller set
  ``STYLETRANSFER_SMOKE`` already: a plain ``pytest`` on a developer's machine stays quick.
  The kernels that nbval starts inherit this environment.
* TensorFlow's C++ log lines are silenced, since nbval also sees a kernel's stderr.
* nbval sanitizes outputs with ``notebooks/nbval_sanitize.cfg`` (found from any working
  directory), and generated exercise notebooks and Jupyter's checkpoints are never collected.
* Tests run in parallel (pytest-xdist, ``--dist loadfile`` in pyproject.toml): a notebook's cells
  share one kernel, so each file goes to one worker, in order. The files with slow work are handed
  out first, so that the workers finish together. ``pytest -n 0`` runs everything in this process,
  in the same order.
"""

import os
from pathlib import Path

os.environ.setdefault("STYLETRANSFER_SMOKE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent
SANITIZE = ROOT / "notebooks" / "nbval_sanitize.cfg"

collect_ignore_glob = [
    "notebooks/exercises/*",          # generated copies with stubs that raise NotImplementedError
    "**/.ipynb_checkpoints/*",        # JupyterLab's autosaves
]


def pytest_configure(config):
    option = config.option
    if hasattr(option, "nbval_sanitize_with") and not option.nbval_sanitize_with and SANITIZE.is_file():
        option.nbval_sanitize_with = str(SANITIZE)


def pytest_collection_modifyitems(config, items):
    # pytest-xdist hands out whole files, in this order: the files with slow work (a notebook, a test
    # marked slow) first, so that the quick ones fill the gaps at the end. A stable sort: each file's
    # tests, and each notebook's cells, stay in their order.
    heavy = {item.path for item in items if item.path.suffix == ".ipynb" or item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in heavy)
