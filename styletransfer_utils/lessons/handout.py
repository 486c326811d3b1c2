"""``styletransfer exercises DIR``: what learners get, without the solutions; ``--nbgrader``: a course source.

The lessons in the repository's ``notebooks/`` are the solutions. ``styletransfer exercises DIR``
writes what a learner needs instead: the exercise notebooks (each solution replaced by a stub
under its hint; the sample answers of written questions withheld) and a README for learners.

Where the exercise notebooks come from:

* in a clone of the repository (an editable install): made now from the lessons, by
  :func:`.grading.generate`;
* in an installed wheel, which holds no lesson: the exercise notebooks the wheel was built with.
  ``setup.py`` copies ``notebooks/exercises/*.ipynb`` into ``styletransfer_utils/lessons/exercise_notebooks/``
  when it builds one (a test keeps the committed copies equal to what the lessons make).

``--nbgrader`` writes the nbgrader course source instead (:mod:`.nbgrader_export`): it holds the
solutions, is made from the lessons, and so needs the clone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import StyleTransferError
from .exercises import EXERCISES
from .grading import NOTEBOOKS

PACKAGED = Path(__file__).resolve().with_name("exercise_notebooks")
HELP = ("Write the exercise notebooks for learners into DIR: every solution replaced by a stub under its hint, "
        "with a README that says how to run them. The lessons in the repository are the solutions: hand out this "
        "folder instead. --nbgrader writes an nbgrader course source instead (it holds the solutions: for teachers).")


def lesson_folder() -> Path | None:
    """The repository's lesson notebooks (the solutions), or None in an installed wheel."""
    lessons = {e.lesson for e in EXERCISES.values()}
    return NOTEBOOKS if all((NOTEBOOKS / f"{name}.ipynb").is_file() for name in lessons) else None


def empty_folder(out, force: bool) -> Path:
    """``out``, a folder to write into: new, empty, or any folder with ``force``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise StyleTransferError(f"{out} is a file", "give a folder to write the notebooks into (new or empty)")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise StyleTransferError(f"{out} exists and is not empty",
                                 "choose a new folder, or add --force to write into it (files of the same name are replaced)")
    return out


def write_exercises(out) -> list[Path]:
    """Write the exercise notebooks and a learners' README into ``out``; return the notebooks' paths."""
    lessons = lesson_folder()
    if lessons is not None:
        from .grading import generate

        written = generate(lessons, out)
    elif any(PACKAGED.glob("*.ipynb")):
        out.mkdir(parents=True, exist_ok=True)
        written = [Path(shutil.copyfile(p, out / p.name)) for p in sorted(PACKAGED.glob("*.ipynb"))]
    else:
        raise StyleTransferError("this installation holds neither the lessons nor the exercise notebooks",
                                 "install the package from a wheel built by pip (pip install .), or run from a clone")
    (out / "README.md").write_text(learner_readme([p.name for p in written]), encoding="utf-8")
    return written


def learner_readme(names) -> str:
    """The README for learners: what is in the folder and how to run it."""
    rows = "\n".join(f"| {n} | {e.name} | `{e.lesson}.ipynb` | `{e.function}` |" for n, e in EXERCISES.items()
                     if f"{e.lesson}.ipynb" in names)
    return f"""# Style transfer exercises

{len(names)} notebooks of the StyleTransfer tutorial series, with exercises: in each, a function
whose body is a stub that raises `NotImplementedError`, under a hint. Write the function where
the stub is; the cell after it checks it against the package's own implementation and prints
`PASS`, or `FAIL:` with what differs, or `NOT DONE`.

| # | exercise | notebook | function |
| --- | --- | --- | --- |
{rows}

## Running them

1. Install the package your teacher gives you (`pip install styletransfer-*.whl`; Python 3.10 or
   newer) and JupyterLab (`pip install jupyterlab`).
2. Start `jupyter lab` in this folder and open a notebook. Run its cells in order.
3. On first use the notebooks fetch VGG19's weights (80 MB) and the example pictures into
   `~/.keras`; after that they run offline.
4. A notebook runs at full size by default (its opening text says how long that takes);
   `STYLETRANSFER_SIZE=192 jupyter lab` caps the pictures at 192 px, and
   `STYLETRANSFER_SMOKE=1 jupyter lab` runs everything in seconds, at tiny sizes.

## Handing in

Hand in the `.ipynb` files. Keep each function's name: the grader calls the function by that
name, on inputs of its own, and does not read what the check cells print.
"""


def write_course(out: Path) -> list[Path]:
    """Write the nbgrader course source into ``out`` (see :mod:`.nbgrader_export`); return the notebooks' paths."""
    from .nbgrader_export import export

    lessons = lesson_folder()
    if lessons is None:
        raise StyleTransferError("the nbgrader source is made from the lesson notebooks, which hold the solutions "
                                 "and are not in the installed package", "run it in a clone of the repository")
    return export(out, lessons, config=not (out / "nbgrader_config.py").exists())


def main(argv, parser_class) -> int:
    parser = parser_class(prog="styletransfer exercises", description=HELP)
    parser.add_argument("folder", metavar="DIR", help="the folder to write (new or empty, unless --force)")
    parser.add_argument("--nbgrader", action="store_true", help="write an nbgrader course source (for teachers: "
                        "it holds the solutions): source/LESSON/LESSON.ipynb, one assignment per lesson, and "
                        "nbgrader_config.py (kept if there is one)")
    parser.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    args = parser.parse_args(argv)
    out = empty_folder(args.folder, args.force)
    try:
        if args.nbgrader:
            written = write_course(out)
            print(f"{out}: the nbgrader source of {len(written)} lesson{'s' * (len(written) != 1)} (source/LESSON/, with "
                  f"the solutions) and nbgrader_config.py; next: cd {out} && nbgrader generate_assignment LESSON")
        else:
            written = write_exercises(out)
            print(f"{out}: {len(written)} exercise notebook{'s' * (len(written) != 1)} and README.md, without the solutions")
    except OSError as exc:
        raise StyleTransferError(f"cannot write into {out} ({exc.strerror or exc})", "choose a folder you can write to") from None
    for path in written:
        print(f"  {path}")
    return 0
