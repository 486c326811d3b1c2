"""What this machine is: its CPU, its GPU, and the precision that is fast on it.

Lesson: ``notebooks/04_optimization_and_acceleration.ipynb`` (mixed precision, GPUs).

Nothing here imports TensorFlow at module level: :func:`import_tensorflow_quietly` is how the
rest of the package and the notebooks import it without its C++ start-up lines.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from functools import lru_cache
from pathlib import Path


def import_tensorflow_quietly() -> None:
    """Import TensorFlow (and Keras) with file descriptor 2 muted (the command line and notebooks do).

    TensorFlow's C++ start-up lines (oneDNN, CUDA probing) are printed before its log level is
    read, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them; Python errors still surface as exceptions.
    Does nothing when TensorFlow is already imported, the log level asks for those lines (< 2),
    or Keras runs on another backend (JAX on a GPU machine without TensorFlow).
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") < "2":
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    try:
        saved = os.dup(2)
    except OSError:
        return
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
            import keras  # noqa: F401  (it imports JAX too where installed, whose start-up lines are alike)
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def onednn_for_training() -> None:
    """Ask TensorFlow for its oneDNN kernels, before it is imported, on an x86 CPU.

    TensorFlow turns them on by itself only on CPUs with AVX-512 VNNI, AVX-512 bf16 or AMX. On a
    2-core AMD EPYC with AVX2 alone they made a training step 1.3-1.45x faster (VGG19's passes
    forward and back), but one pass of the small transformation network about 1.1x slower, so
    ``train`` asks for them and ``fast`` does not (``bench/RESULTS.md``, "A new style on a CPU
    without bf16"). A ``TF_ENABLE_ONEDNN_OPTS`` already set wins; after the import this does nothing.
    """
    if "tensorflow" not in sys.modules and platform.machine().lower() in ("x86_64", "amd64"):
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def processor_name() -> str:
    """The CPU's model name where the system says it (Linux), else the architecture."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def bf16_fast_on_cpu() -> bool:
    """True when the CPU has AMX or AVX-512 bf16 instructions (bf16 matmuls run natively)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU."""
    import_tensorflow_quietly()
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def gpu_compute_capability() -> tuple[int, int] | None:
    """The first GPU's compute capability, or ``None`` when there is no GPU."""
    import_tensorflow_quietly()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("compute_capability", (0, 0))


def resolve_precision(precision: str = "auto") -> str:
    """Turn ``"auto"`` into a concrete Keras dtype policy name for this machine.

    ``auto`` picks ``mixed_bfloat16`` on GPUs with bf16 tensor cores (compute capability 8.0+)
    and on CPUs with AMX/AVX-512 bf16, ``mixed_float16`` on older tensor-core GPUs (7.x), and
    ``float32`` elsewhere.
    """
    if precision != "auto":
        return precision
    cc = gpu_compute_capability()
    if cc is not None:
        if cc >= (8, 0):
            return "mixed_bfloat16"
        return "mixed_float16" if cc >= (7, 0) else "float32"
    return "mixed_bfloat16" if bf16_fast_on_cpu() else "float32"


def available_memory_bytes() -> int | None:
    """Memory this process may still take: the smaller of the system's available memory
    (``MemAvailable``) and what the cgroup limit leaves, or ``None`` where neither is known."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max":
            found.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(found) if found else None
