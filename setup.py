"""The build step that pyproject.toml cannot say: a wheel carries the exercise notebooks, not the lessons.

``styletransfer exercises DIR`` makes the exercise notebooks from the lessons in a clone of the
repository; an installed wheel holds no lesson (the lessons are the solutions), so the wheel gets
the committed exercise notebooks (``notebooks/exercises/*.ipynb``) as
``styletransfer_utils/lessons/exercise_notebooks/``. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXERCISES = Path(__file__).resolve().parent / "notebooks" / "exercises"
PACKAGED = Path("styletransfer_utils", "lessons", "exercise_notebooks")  #: handout.PACKAGED, in the wheel


def copy_exercises(build_lib) -> list:
    """Copy the exercise notebooks into the package being built; return the copies' paths."""
    target = Path(build_lib) / PACKAGED
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.ipynb"):  # a notebook removed since the last build
        stale.unlink()
    return [shutil.copyfile(notebook, target / notebook.name) for notebook in sorted(EXERCISES.glob("*.ipynb"))]


class BuildWithExercises(build_py):
    def run(self):
        super().run()
        copy_exercises(self.build_lib)


if __name__ == "__main__":  # what pip and setuptools' build backend run
    setup(cmdclass={"build_py": BuildWithExercises})
