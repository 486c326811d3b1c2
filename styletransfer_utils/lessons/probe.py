"""What the grader runs inside a learner's kernel, after the learner's cells: call one function.

The grader does not import this module there (a learner's code may have replaced anything in
``sys.modules``): it sends this file's text as a cell, which runs in a namespace of its own and
ends with ``probe(SPEC)``. ``SPEC`` names a file the grader wrote after the learner's cells had
run: the exercise, the function's name, the inputs (made from a seed the learner never saw), the
package's reference functions that the learner's function may not call, and a random nonce.

:func:`probe` looks the function up in the learner's namespace, runs it eagerly (the Python
function under a ``@tf.function``) on each input, and writes two files named by the nonce: the
outputs as plain arrays (``.npz``, read back without pickle) and a JSON record (the nonce; done,
missing, not done or raised, with the learner's own failing line; seconds per call; which
reference functions ran inside the learner's function, seen by a profiler; whether it started a
process; which processes, and before Python 3.12 which threads, were running where the profiler
cannot see). Nothing here judges: the grader compares the arrays with references that it
computes in its own process. Whatever a learner's code changes in the kernel can change only the
learner's own outputs.

Only the standard library and NumPy: the file must run in any kernel.
"""

import _thread
import json
import linecache
import os
import pickle
import sys
import sysconfig
import threading
import time
import traceback

import numpy as np

_PATHS = sysconfig.get_paths()
#: code that is not the learner's: Python's, the installed packages', and (imported) this package's
_LIBRARIES = tuple(os.path.realpath(p) for p in (_PATHS["stdlib"], _PATHS["purelib"], _PATHS["platlib"]))
if "__file__" in globals():
    _LIBRARIES += (os.path.dirname(os.path.dirname(os.path.realpath(__file__))),)


def learner_line(tb, libraries=_LIBRARIES) -> str:
    """``line N: source`` of the deepest frame of ``tb`` outside the libraries (the learner's), or ''."""
    found = ""
    for frame, lineno in traceback.walk_tb(tb):
        name = frame.f_code.co_filename
        if name.startswith("<") or os.path.realpath(name).startswith(libraries):
            continue
        text = linecache.getline(name, lineno, frame.f_globals).strip()
        found = f"line {lineno} of {frame.f_code.co_name}: {text}" if text else f"line {lineno} of {frame.f_code.co_name}"
    return found


def flatten(value, prefix: str, out: dict) -> None:
    """Arrays of ``value`` (nested dicts, lists and tuples of tensors) under keys ``prefix.key``, ``prefix#i``."""
    if isinstance(value, dict):
        out[prefix + "{}"] = np.array([str(k) for k in value])
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}", out)
    elif isinstance(value, (list, tuple)):
        out[prefix + "[]"] = np.array(len(value))
        for i, item in enumerate(value):
            flatten(item, f"{prefix}#{i}", out)
    else:
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"returns a {type(value).__name__}, not a tensor, an array or a number")
        out[prefix] = array


def unflatten(arrays, prefix: str):
    """The inverse of :func:`flatten` (dicts come back as dicts, lists and tuples as lists)."""
    if prefix + "{}" in arrays:
        return {str(k): unflatten(arrays, f"{prefix}.{k}") for k in arrays[prefix + "{}"]}
    if prefix + "[]" in arrays:
        return [unflatten(arrays, f"{prefix}#{i}") for i in range(int(arrays[prefix + "[]"]))]
    return arrays[prefix]


def call(function, case, *, model_call: bool = False):
    """``function(*case)``; for a function that builds a model (exercise 2), that model on the input too."""
    if model_call:
        names, x = case
        built = function(names)
        return built(x) if callable(built) else built
    return function(*case)


def as_tensors(value):
    """``value`` with its float arrays (also a dict's, a list's) as TensorFlow tensors."""
    import tensorflow as tf

    if isinstance(value, dict):
        return {k: as_tensors(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(as_tensors(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return tf.constant(value)
    return value


PROFILER_OFF = "<profiler off>"  #: what run_cases reports when the learner's code turned its profiler off
UNWATCHED = "<not watched>"  #: what probe reports, with their names, for threads and processes it cannot watch
SPAWNED = "<another process>"  #: what run_cases reports when the learner's function started a process
#: the kernel's own threads run code of these packages (ipykernel's I/O, heartbeat, control, shell)
_KERNEL_PACKAGES = ("ipykernel", "IPython", "jupyter_client", "zmq", "tornado", "traitlets", "comm")


def _genuine(function, module, name: str) -> bool:
    """Whether ``function`` is ``module``'s own built-in ``name``, not one a learner's code put in its place."""
    return getattr(function, "__self__", None) is module and getattr(function, "__name__", "") == name


def _spawners() -> list:
    """The C functions through which Python starts another process (``subprocess``, ``multiprocessing``,
    ``os.system``, ...), taken from the C modules themselves."""
    found = []
    for module_name, names in (("posix", ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv",
                                           "execve")),
                               ("nt", ("system", "spawnv", "spawnve", "startfile", "execv", "execve")),
                               ("_posixsubprocess", ("fork_exec",)), ("_winapi", ("CreateProcess",))):
        module = sys.modules.get(module_name)
        if module is None:
            try:
                module = __import__(module_name)
            except ImportError:
                continue
        found += [getattr(module, name) for name in names if hasattr(module, name)]
    return found


def child_processes() -> list:
    """``process PID`` for each process that this one started and that still runs (on Linux, all of
    them; elsewhere those of ``multiprocessing``): what runs there no profiler here can see."""
    task, pids, read = f"/proc/{os.getpid()}/task", set(), False
    for thread in os.listdir(task) if os.path.isdir(task) else ():
        try:
            with open(os.path.join(task, thread, "children")) as file:
                pids.update(file.read().split())
            read = True
        except OSError:  # a kernel built without the children files, or a thread that just ended
            continue
    if read:
        return [f"process {pid}" for pid in sorted(pids, key=int)]
    import multiprocessing

    return [f"process {child.pid}" for child in multiprocessing.active_children()]


def unwatched_threads() -> list:
    """Names of the threads, other than the kernel's own, that already run and that no profiler can watch.

    Before Python 3.12 a profile function reaches only the current thread and the threads started
    after it is set: a pool made in an earlier cell could run the package's answer for the
    learner's function unseen. So on those versions every thread that runs no code of the kernel's
    packages counts, ``threading``'s and those started with ``_thread`` alike. From 3.12 the profiler
    reaches them all, and none counts."""
    if getattr(threading, "setprofile_all_threads", None):
        return []
    frames, me = sys._current_frames, threading.get_ident
    if not (_genuine(frames, sys, "_current_frames") and _genuine(me, _thread, "get_ident")):
        return ["(the functions that list them were replaced)"]
    marks = tuple(f"{os.sep}{name}{os.sep}" for name in _KERNEL_PACKAGES)
    names = []
    for ident, frame in frames().items():
        if ident == me():
            continue
        files = []
        while frame is not None:
            files.append(frame.f_code.co_filename)
            frame = frame.f_back
        if not any(mark in name for name in files for mark in marks):
            thread = threading._active.get(ident)
            names.append(thread.name if thread is not None else f"thread {ident}")
    return sorted(names)


def run_cases(function, cases, forbidden, *, model_call: bool = False, timed=()):
    """``function`` on each case: its outputs, seconds per call, and which of the ``forbidden`` codes
    ((file, name) pairs: the package's answers) ran inside it, seen by a profiler."""
    forbidden, seen, outputs, seconds = {tuple(f) for f in forbidden}, set(), [], []
    spawners = {id(f) for f in _spawners()}

    def profile(frame, event, arg):
        if event == "call" and (os.path.realpath(frame.f_code.co_filename), frame.f_code.co_name) in forbidden:
            seen.add(frame.f_code.co_name)
        elif event == "c_call" and id(arg) in spawners:
            seen.add(SPAWNED)

    real = _genuine(sys.setprofile, sys, "setprofile")
    # threads the function starts are watched too (an answer called in a thread of its own); from
    # Python 3.12 also the threads that already run (a pool made in an earlier cell)
    everywhere = getattr(threading, "setprofile_all_threads", None)
    for i, case in enumerate(cases):
        for _ in range(2 if i in timed else 1):  # a timed call: once to warm up
            start = time.perf_counter()
            threading.setprofile(profile)
            if everywhere:
                everywhere(profile)
            sys.setprofile(profile)
            try:
                output = call(function, case, model_call=model_call)
            finally:
                if not real or sys.getprofile() is not profile:  # replaced, or turned off by the learner's code
                    seen.add(PROFILER_OFF)
                sys.setprofile(None)
                threading.setprofile(None)
                if everywhere:
                    everywhere(None)
            took = time.perf_counter() - start
        outputs.append(output)
        seconds.append(took)
    return outputs, seconds, sorted(seen)


def probe(spec_path: str) -> None:
    with open(spec_path, "rb") as file:
        spec = pickle.load(file)
    record = {"nonce": spec["nonce"], "status": "done", "error": "", "line": "", "seconds": [], "references": []}
    arrays = {}
    namespace = get_ipython().user_ns  # noqa: F821 - the kernel's, where the learner's cells ran
    function = namespace.get(spec["function"])
    if not callable(function):
        record["status"] = "missing"
    else:
        function = getattr(function, "python_function", function)  # run a tf.function eagerly
        cases = spec["cases"]
        if spec["tensors"] and "tensorflow" in sys.modules:
            cases = [tuple(as_tensors(a) for a in case) for case in cases]
        try:
            unwatched = unwatched_threads() + child_processes()
            outputs, record["seconds"], record["references"] = run_cases(
                function, cases, spec["forbidden"], model_call=spec["model_call"], timed=spec["timed"])
            if unwatched:
                record["references"].append(f"{UNWATCHED} {', '.join(unwatched)}")
            for i, output in enumerate(outputs):
                flatten(output, f"c{i}", arrays)
            # the weights the function works with (exercise 8: the network's), from the notebook's
            # namespace: the function may be a method of another module's object, as exact.losses is
            holder = namespace.get(spec["state"]) if spec.get("state") else None
            if hasattr(holder, "get_weights"):
                flatten([np.asarray(w) for w in holder.get_weights()], "state", arrays)
        except NotImplementedError:
            record["status"] = "not done"
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt too: the cell's time limit
            record.update(status="raised", error=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                          line=learner_line(exc.__traceback__, _LIBRARIES + tuple(spec["libraries"])))
    base = os.path.join(spec["out"], spec["nonce"])
    with open(base + ".npz", "wb") as file:
        np.savez(file, **arrays)
    with open(base + ".json", "w") as file:
        json.dump(record, file)
