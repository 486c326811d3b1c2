"""Shared fixtures.

Tests that need the real VGG19 ImageNet weights use the ``vgg_weights`` fixture: it skips on a
developer machine without them, but fails under ``CI=true`` so CI can never pass by skipping.
"""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import synthetic_photo

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SHARED_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"


@pytest.fixture(scope="session")
def vgg_weights():
    from styletransfer_utils.core.weights import cached_weights_path, file_md5, WEIGHTS_MD5

    path = cached_weights_path()
    if path.is_file() and file_md5(path) == WEIGHTS_MD5:
        return path
    message = f"VGG19 weights missing at {path} (set KERAS_HOME or copy the file there)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _smooth_picture(h, w, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * x + 1), np.cos(5 * y), np.sin(4 * (x + y))], -1)
    return np.clip(127.5 + 100 * base + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.float32)


@pytest.fixture
def content_picture():
    return _smooth_picture(48, 64, seed=1)


@pytest.fixture
def style_picture():
    rng = np.random.default_rng(2)
    stripes = (np.indices((64, 64)).sum(0) // 4 % 2)[..., None] * np.array([200.0, 40.0, 90.0])
    return np.clip(stripes + rng.normal(30, 20, (64, 64, 3)), 0, 255).astype(np.float32)


@pytest.fixture
def photos(tmp_path):
    """A folder of synthetic photos: JPEG and PNG, one greyscale, one in a subfolder."""
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    for i in range(4):
        Image.fromarray(synthetic_photo(40 + 3 * i, 50, i)).save(folder / f"p{i}.jpg")
    Image.fromarray(synthetic_photo(48, 48, 7)).convert("L").save(folder / "grey.png")
    Image.fromarray(synthetic_photo(60, 44, 8)).save(folder / "sub" / "deep.PNG")
    (folder / "notes.txt").write_text("not a picture and not a picture name")
    return folder


@pytest.fixture
def style_file(tmp_path):
    rng = np.random.default_rng(2)
    stripes = (np.indices((48, 48)).sum(0) // 4 % 2)[..., None] * np.array([200.0, 40.0, 90.0])
    path = tmp_path / "style.png"
    Image.fromarray(np.clip(stripes + rng.normal(30, 20, (48, 48, 3)), 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def half_net():
    from styletransfer_utils.feedforward import build_transformer

    return build_transformer(half_width=True, seed=0)
