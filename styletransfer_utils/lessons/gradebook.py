"""``styletransfer grade``: a class at once, several kernels at a time, and a gradebook.

``styletransfer grade submissions/`` grades a folder holding one notebook or one subfolder per
learner (a learner is the file's stem or the subfolder's name); notebooks may also be named one
by one. Each notebook runs in a kernel of its own (:mod:`.grader`), ``--jobs`` at a time (by
default as many as half the cores and the free memory allow, at the memory cap each). A notebook
that cannot be graded is reported and the batch goes on. The gradebook (``-o NAME``: NAME.csv and
NAME.json; written by default when a folder is graded) has one row per learner, with points per
exercise: the exercises of every lesson that anyone handed in, so that a learner who handed in
nothing for a lesson gets NOT DONE for its exercises. ``--json`` prints the whole report.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from ..errors import StyleTransferError
from .answers import CASES, grading_context
from .exercises import EXERCISES, lesson_exercises
from .grader import GradingError, Limits, Report, broken, judge_notebook, new_seed, read_notebook, run

HELP = ("Grade learners' exercise notebooks. WARNING: grading runs the learners' code, on this machine, with "
        "your rights (your files, your network): each notebook runs in its own Python kernel, with a memory cap "
        "and a time limit per cell, but no other sandbox (and as root, a learner's code may lift the cap). Grade "
        "untrusted work as an ordinary user, in a container or a throwaway account. The grade never comes from what a notebook prints: the grader calls each exercise's "
        "function itself, on inputs drawn afresh, and compares with the package's answers in its own process.")


@dataclass
class Progress:
    """What the progress bar shows after each notebook."""

    steps: int
    text: str


def submissions(paths) -> list[tuple[str, Path]]:
    """(learner, notebook) pairs: a folder's notebooks and subfolders (one per learner), or files as named."""
    found = []
    for arg in map(Path, paths):
        if not arg.exists():
            raise StyleTransferError(f"{arg}: no such notebook or folder", "check the path")
        if arg.is_file():
            found.append((arg.stem, arg))
            continue
        for child in sorted(arg.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir():
                found += [(child.name, nb) for nb in sorted(child.rglob("*.ipynb")) if ".ipynb_checkpoints" not in nb.parts]
            elif child.suffix == ".ipynb":
                found.append((child.stem, child))
    if not found:
        raise StyleTransferError(f"no notebooks in {', '.join(map(str, paths))}", "give .ipynb files or folders of them")
    return found


def default_jobs(limits: Limits) -> int:
    """Kernels at a time: half the cores, and no more than the free memory holds at the cap each."""
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        free = limits.memory
    return max(1, min((os.cpu_count() or 2) // 2, free // limits.memory))


def grade_all(items, limits: Limits = Limits(), jobs: int = 1, seed: int | None = None, progress=None) -> list[tuple[str, Report]]:
    """(learner, report) for each (learner, notebook), in the order given."""
    seed = new_seed() if seed is None else seed
    reports, read = {}, {}  # read: i -> (notebook, lesson), each file parsed once
    for i, (learner, path) in enumerate(items):
        try:
            read[i] = read_notebook(path)
        except GradingError as exc:
            reports[i] = broken(path, str(exc))
    todo = {i: lesson for i, (_, lesson) in read.items()}
    with tempfile.TemporaryDirectory(prefix="grading_") as workdir:
        numbers = sorted({n for lesson in set(todo.values()) for n in lesson_exercises(lesson)})
        contexts = {n: grading_context(n, workdir) for n in numbers if EXERCISES[n].context}
        cases = {n: CASES[n](contexts.get(n, {}), seed) for n in numbers}
        previous = os.environ.get("STYLETRANSFER_SMOKE")
        os.environ["STYLETRANSFER_SMOKE"] = "1"  # the kernels run the lessons in smoke mode, as the contexts are made
        try:
            with ThreadPoolExecutor(max(1, jobs)) as pool:
                futures = {pool.submit(run, read[i][0], items[i][1], lesson, cases, limits, workdir): i
                           for i, lesson in todo.items()}
                for done in as_completed(futures):
                    i = futures[done]
                    try:
                        reports[i] = judge_notebook(items[i][1], read[i][0], todo[i], done.result(), cases, contexts)
                    except Exception as exc:  # noqa: BLE001 - one notebook's trouble never ends the batch
                        reports[i] = broken(items[i][1], f"{type(exc).__name__}: {exc}", todo[i])
                    if progress:
                        progress(Progress(len(todo), f"{items[i][0]} {reports[i].points}/{reports[i].max_points}"))
        finally:
            if previous is None:
                os.environ.pop("STYLETRANSFER_SMOKE", None)
            else:
                os.environ["STYLETRANSFER_SMOKE"] = previous
    return [(items[i][0], reports[i]) for i in range(len(items))]


def gradebook(results) -> dict:
    """One entry per learner: points per exercise (best over their notebooks), total, problems."""
    numbers = sorted({g.exercise for _, r in results for g in r.grades})
    learners = {}
    for learner, report in results:
        entry = learners.setdefault(learner, {"learner": learner, "exercises": {}, "notebooks": []})
        entry["notebooks"].append(report.to_dict())
        for g in report.grades:
            old = entry["exercises"].get(g.exercise)
            if old is None or g.points > old["points"]:
                entry["exercises"][g.exercise] = {"status": g.status, "points": g.points, "message": g.message}
    for entry in learners.values():
        for n in numbers:
            entry["exercises"].setdefault(n, {"status": "NOT DONE", "points": 0,
                                              "message": f"no notebook of lesson {EXERCISES[n].lesson}"})
        entry["exercises"] = dict(sorted(entry["exercises"].items()))
        entry["points"] = sum(e["points"] for e in entry["exercises"].values())
        entry["max_points"] = sum(EXERCISES[n].points for n in numbers)
        entry["problems"] = "; ".join(f"{Path(r['notebook']).name}: {r['error']}" for r in entry["notebooks"] if r["error"])
    return {"exercises": {n: EXERCISES[n].name for n in numbers}, "learners": list(learners.values())}


def write_gradebook(book: dict, stem) -> list[Path]:
    """``stem.csv`` (a row per learner, points per exercise) and ``stem.json`` (everything)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + ".json")
    with open(csv_path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["learner", *(f"{n} {name}" for n, name in book["exercises"].items()), "points", "max_points",
                         "problems"])
        for entry in book["learners"]:
            writer.writerow([entry["learner"], *(entry["exercises"][n]["points"] for n in book["exercises"]),
                             entry["points"], entry["max_points"], entry["problems"]])
    json_path.write_text(json.dumps(book, indent=1) + "\n", encoding="utf-8")
    return [csv_path, json_path]


def _print(results) -> None:
    for learner, report in results:
        print(f"{report.notebook} ({learner})")
        if report.error:
            print(f"  error: {report.error}")
        if report.failed_cells:
            print(f"  cells that raised: {', '.join(report.failed_cells)}")
        for g in report.grades:
            print(f"  {g.exercise:>2}  {g.name:36s} {g.status:9s} {g.message}".rstrip())
        if report.max_points:
            print(f"  score: {report.points}/{report.max_points} ({100 * report.points / report.max_points:.0f}%)")


def main(argv=None, parser_class=argparse.ArgumentParser, progress_bar=None) -> int:
    """``styletransfer grade NOTEBOOK_OR_FOLDER... [--jobs N] [-o GRADEBOOK] [--json]``."""
    limits = Limits()
    parser = parser_class(prog="styletransfer grade", description=HELP)
    parser.add_argument("paths", nargs="+", metavar="NOTEBOOK_OR_FOLDER",
                        help="learners' .ipynb files, or a folder with one notebook or one subfolder per learner")
    parser.add_argument("-o", "--gradebook", metavar="NAME", help="write NAME.csv and NAME.json (default: "
                        "'gradebook' in the current folder when a folder is graded)")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON (always, even when "
                        "notebooks are broken)")
    parser.add_argument("-j", "--jobs", type=int, default=None, help="kernels at a time (default: half the cores, "
                        f"as free memory allows at the cap; {default_jobs(limits)} here)")
    parser.add_argument("--timeout", type=int, default=limits.timeout, help="seconds a cell may run before it is "
                        f"interrupted ({limits.timeout})")
    parser.add_argument("--memory", type=float, default=limits.memory / 2**30, help="memory cap of each kernel, GB "
                        f"({limits.memory / 2**30:g})")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.timeout < 1 or args.memory <= 0 or (args.jobs is not None and args.jobs < 1):
        raise StyleTransferError("--timeout, --memory and --jobs must be positive", "e.g. --timeout 300 --memory 6 --jobs 2")
    limits = Limits(timeout=args.timeout, memory=int(args.memory * 2**30))
    items = submissions(args.paths)
    bar = progress_bar(enabled=not args.quiet) if progress_bar else None
    try:
        results = grade_all(items, limits, args.jobs or default_jobs(limits), progress=bar)
    finally:
        if bar:
            bar.close()
    book = gradebook(results)
    stem = args.gradebook or ("gradebook" if any(Path(p).is_dir() for p in args.paths) else None)
    if stem:
        written = write_gradebook(book, stem)
        print(f"wrote {' and '.join(map(str, written))}", file=sys.stderr)
    if args.json:
        json.dump(book, sys.stdout, indent=1)
        print()
    else:
        _print(results)
    return 0


__all__ = ["HELP", "default_jobs", "grade_all", "gradebook", "main", "submissions", "write_gradebook"]
