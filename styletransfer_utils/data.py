"""The catalogue of example pictures, and pictures the project can always offer offline.

The classic inputs of the field (Tübingen, The Starry Night, ...) are fetched once from the
reference Torch implementation's repository with ``keras.utils.get_file``, checked against a
sha256 and cached under ``$KERAS_HOME/datasets/``: when the cached copy is there, nothing is
downloaded. They are not part of the package.

When they cannot be fetched, :func:`shipped_content` and :func:`generated_style` give pictures
that need no network: public-domain photos that scikit-image installs, and a style picture
this module paints itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ImageError
from .core.weights import keras_home

BASE_URL = "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/"


@dataclass(frozen=True)
class Example:
    filename: str
    sha256: str
    description: str
    kind: str  # "content" or "style"


EXAMPLES = {
    "tubingen": Example("tubingen.jpg", "e67d1869f01fd805385c681a80d9ebcf0f70ea4a5fe6127f0606bb1c7f4bf506",
                        "the Neckarfront in Tübingen (content of Gatys et al., Fig. 2)", "content"),
    "hoovertowernight": Example("hoovertowernight.jpg",
                                "8852910ed1594af535c3dee012b020b9ee4045798645885d20a9445d12e98093",
                                "Hoover Tower at night, Stanford", "content"),
    "starry_night": Example("starry_night.jpg", "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098",
                            "Van Gogh, The Starry Night (1889)", "style"),
    "starry_night_crop": Example("starry_night_crop.png",
                                 "776279d5e9daf676fb7e36c9eab953497445d4b3422bdd660b96ce984ac39721",
                                 "a crop of The Starry Night", "style"),
    "the_scream": Example("the_scream.jpg", "f3075cddeb974a9ee1d6418f7f33fd05185a7ac7dcb4288bd2805d499a9dcaee",
                          "Munch, The Scream (1893)", "style"),
    "shipwreck": Example("shipwreck.jpg", "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
                         "Turner, The Shipwreck (1805)", "style"),
    "picasso_selfport1907": Example("picasso_selfport1907.jpg",
                                    "d40e903db6c1e7b73974cebe3705d0c9a295455563b9a92d6ac717d224cc947a",
                                    "Picasso, Self-portrait (1907)", "style"),
    "woman_with_hat_matisse": Example("woman-with-hat-matisse.jpg",
                                      "6a8b2383d9c110354a97a42c74bdcc5341be879cbb842ddb7ab5843dbdf56d53",
                                      "Matisse, Woman with a Hat (1905)", "style"),
    "escher_sphere": Example("escher_sphere.jpg", "555569cb64f86a136fb7a5ed7748ae712f2b6c0e42b4e85d17d1abf52350d10a",
                             "Escher, Hand with Reflecting Sphere (greyscale)", "style"),
}

#: Public-domain photos that scikit-image ships inside its wheel (no download needed).
SHIPPED_CONTENT = ("chelsea", "astronaut", "coffee", "rocket")


def cached_example_path(name: str) -> Path:
    """Where the cached copy of example ``name`` lives (it may not exist yet)."""
    return keras_home() / "datasets" / _example(name).filename


def _key(name: str) -> str:
    return name.lower().replace("-", "_")


def is_example(name: str) -> bool:
    """True when ``name`` names an example picture (case and dashes do not matter)."""
    return _key(name) in EXAMPLES


def _example(name: str) -> Example:
    if not is_example(name):
        raise ImageError(f"unknown example picture {name!r}", f"use one of: {', '.join(EXAMPLES)}")
    return EXAMPLES[_key(name)]


def example_path(name: str, *, download: bool = True) -> Path:
    """Path of example picture ``name``: the verified cached copy, else downloaded once.

    Raises :class:`ImageError` when it is not cached and cannot be downloaded.
    """
    from .device import import_tensorflow_quietly

    import_tensorflow_quietly()  # Keras imports TensorFlow, whose C++ start-up lines would reach the terminal
    import keras

    ex = _example(name)
    cached = cached_example_path(name)
    if not download and not cached.is_file():
        raise ImageError(f"example {name!r} is not cached at {cached}", "connect to the internet once to fetch it")
    try:
        got = keras.utils.get_file(ex.filename, BASE_URL + ex.filename, file_hash=ex.sha256,
                                   hash_algorithm="sha256", cache_subdir="datasets", cache_dir=str(keras_home()))
    except Exception as exc:  # noqa: BLE001 - network errors come in many types
        raise ImageError(
            f"cannot fetch example {name!r} ({type(exc).__name__})",
            f"connect to the internet once, or put {ex.filename} into {cached.parent}",
        ) from None
    return Path(got)


def example_available(name: str) -> bool:
    """True when example ``name`` can be used without a download."""
    return cached_example_path(name).is_file()


def load_example(name: str, max_size: int | None = None) -> np.ndarray:
    """Load example picture ``name`` as an RGB float array (see :func:`images.load_image`)."""
    from .core.images import load_image

    return load_image(example_path(name), max_size)


def shipped_content(name: str = "chelsea") -> np.ndarray:
    """A public-domain photo installed with scikit-image, as an RGB float array."""
    import skimage.data

    if name not in SHIPPED_CONTENT:
        raise ImageError(f"unknown shipped photo {name!r}", f"use one of: {', '.join(SHIPPED_CONTENT)}")
    return np.asarray(getattr(skimage.data, name)(), dtype=np.float32)[..., :3]


def generated_style(size: int = 512, seed: int = 7) -> np.ndarray:
    """A painterly style picture made from scratch: swirling brush strokes in night colours.

    Domain-warped sine waves give flowing bands; a palette maps them to deep blues and warm
    yellows. Being generated, it can be shipped and shown freely.
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    u, v = x.copy(), y.copy()
    for _ in range(4):
        fx, fy, phase = rng.uniform(2, 7), rng.uniform(2, 7), rng.uniform(0, 2 * np.pi, 2)
        u, v = (u + 0.12 * np.sin(fy * 2 * np.pi * v + phase[0]),
                v + 0.12 * np.sin(fx * 2 * np.pi * u + phase[1]))
    bands = 0.5 + 0.5 * np.sin(22 * u + 9 * np.sin(3 * v))
    strokes = 0.5 + 0.5 * np.sin(140 * (u * 0.6 + v * 0.8) + 3 * bands)
    t = np.clip(0.75 * bands + 0.25 * strokes, 0, 1)
    palette = np.array([[12, 24, 70], [30, 70, 150], [80, 140, 200], [230, 210, 110], [250, 240, 190]], float)
    pos = t * (len(palette) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(palette) - 2)
    frac = (pos - lo)[..., None]
    rgb = palette[lo] * (1 - frac) + palette[lo + 1] * frac
    return np.clip(rgb, 0, 255).astype(np.float32)


def picture_path(ref) -> Path:
    """A file path as given, or an example name's cached file (fetched on first use).

    A reference that is no file and looks like a name (no folder, no extension) but names no
    example is a one-line error pointing to ``styletransfer examples``.
    """
    path = Path(ref).expanduser()
    if not path.exists() and is_example(str(ref)):
        return example_path(str(ref))
    if not path.exists() and not path.suffix and len(path.parts) == 1:  # looks like a name, not a file
        raise ImageError(f"{ref}: no such file or example picture",
                         "check the spelling, or run 'styletransfer examples' for the example names")
    return path


def resolve_picture(ref, max_size: int | None = None) -> np.ndarray:
    """A file path, or an example name from the catalogue, as an RGB array."""
    from .core.images import load_image

    return load_image(picture_path(ref), max_size)
