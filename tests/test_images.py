import re

import numpy as np
import pytest
from PIL import Image

from helpers import make_bad_picture

from styletransfer_utils.errors import ImageError, StyleTransferError
from styletransfer_utils.core.images import (
    IMAGENET_MEAN_BGR, deprocess, load_image, preprocess, resize_to_long_side, save_image, to_uint8,
)


def _rgb(h=40, w=60, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_preprocess_matches_keras():
    from keras.applications import vgg19

    img = _rgb().astype(np.float32)
    ours = preprocess(img)
    theirs = vgg19.preprocess_input(img.copy()[None])
    assert ours.shape == (1, 40, 60, 3)
    np.testing.assert_array_equal(ours, theirs)


def test_preprocess_tensor_matches_numpy():
    import tensorflow as tf

    img = _rgb().astype(np.float32)
    np.testing.assert_allclose(preprocess(tf.constant(img)).numpy(), preprocess(img), atol=1e-5)


def test_preprocess_deprocess_round_trip():
    img = _rgb().astype(np.float32)
    np.testing.assert_allclose(deprocess(preprocess(img)), img, atol=1e-4)
    x = preprocess(img)
    np.testing.assert_allclose(preprocess(deprocess(x)), x, atol=1e-4)


def test_preprocess_is_bgr_minus_mean():
    img = np.zeros((32, 32, 3), np.float32)
    img[..., 0] = 255  # pure red
    x = preprocess(img)[0, 0, 0]
    np.testing.assert_allclose(x, [-IMAGENET_MEAN_BGR[0], -IMAGENET_MEAN_BGR[1], 255 - IMAGENET_MEAN_BGR[2]], rtol=1e-6)


def test_deprocess_clips():
    x = np.full((1, 32, 32, 3), 500.0, np.float32)
    assert deprocess(x).max() == 255
    assert deprocess(x, clip=False).max() > 255


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "LA", "CMYK"])
def test_load_any_mode_as_rgb(tmp_path, mode):
    src = Image.fromarray(_rgb(), "RGB")
    im = src.convert(mode)
    path = tmp_path / ("pic.jpg" if mode in ("CMYK",) else "pic.png")
    im.save(path)
    arr = load_image(path)
    assert arr.shape == (40, 60, 3) and arr.dtype == np.float32
    assert 0 <= arr.min() and arr.max() <= 255


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((40, 40, 4), np.uint8)  # fully transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    np.testing.assert_array_equal(load_image(tmp_path / "t.png"), 255)


def test_cmyk_jpeg_colours(tmp_path):
    red = np.zeros((40, 40, 3), np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    arr = load_image(tmp_path / "c.jpg")
    assert arr[..., 0].mean() > 200 and arr[..., 1].mean() < 60 and arr[..., 2].mean() < 60


def test_16_bit_png(tmp_path):
    ramp = (np.linspace(0, 65535, 64 * 40).reshape(40, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    arr = load_image(tmp_path / "deep.png")
    assert arr.shape == (40, 64, 3)
    assert arr.min() <= 1 and arr.max() >= 254  # full range kept, not clipped to white


def test_exif_rotation_is_applied(tmp_path):
    im = Image.fromarray(_rgb(40, 60), "RGB")
    exif = im.getexif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    im.save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == (60, 40, 3)


def test_max_size_caps_long_side(tmp_path):
    Image.fromarray(_rgb(300, 500)).save(tmp_path / "big.png")
    arr = load_image(tmp_path / "big.png", max_size=100)
    assert arr.shape == (60, 100, 3)
    assert load_image(tmp_path / "big.png", max_size=1000).shape == (300, 500, 3)  # never upscaled


def test_resize_to_long_side_upscales():
    assert resize_to_long_side(_rgb(30, 40).astype(np.float32), 80).shape == (60, 80, 3)


@pytest.mark.parametrize("case, words", [
    ("missing", "no such file"),
    ("text", "not a picture"),
    ("empty", "empty"),
    ("truncated", "truncated"),
    ("tiny", "1x1"),
    ("bomb", "pixels we decode"),
    ("bomb-below-pil-limit", "more than"),
    ("folder", "folder"),
])
def test_bad_pictures_give_one_line_errors(tmp_path, case, words):
    path = make_bad_picture(tmp_path, case)
    with pytest.raises(ImageError) as err:
        load_image(path)
    message = str(err.value)
    assert words in message and "\n" not in message and ";" in message  # problem; fix


def test_save_and_reload(tmp_path):
    img = _rgb().astype(np.float32)
    out = save_image(tmp_path / "o.png", img)
    np.testing.assert_array_equal(load_image(out), img)
    assert not list(tmp_path.glob(".tmp-*"))
    import os

    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # not the 0600 of a temporary file


def test_save_errors(tmp_path):
    img = _rgb().astype(np.float32)
    with pytest.raises(ImageError, match="does not exist"):
        save_image(tmp_path / "nope" / "o.png", img)
    with pytest.raises(ImageError, match="cannot write .xyz pictures"):
        save_image(tmp_path / "o.xyz", img)

def test_unwritable_output(tmp_path):
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root ignores permission bits, so as root use a read-only file system instead
    target = "/sys/out.png" if os.geteuid() == 0 else locked / "o.png"
    try:
        with pytest.raises(ImageError, match="cannot write"):
            save_image(target, _rgb().astype(np.float32))
    finally:
        locked.chmod(0o700)


def test_to_uint8_rounds():
    assert to_uint8(np.array([0.4, 0.6, 254.6, 300, -3])).tolist() == [0, 1, 255, 255, 0]


@pytest.mark.parametrize("picture, words", [
    (np.full((8, 8, 3), 0.5, np.float32), "as if scaled to 0-1"),
    (np.full((8, 8, 3), 300.0, np.float32), "run from 300 to 300"),
    (np.full((8, 8, 3), np.nan, np.float32), "NaN or infinite"),
    (np.zeros((0, 0, 3), np.float32), "empty"),
    (np.zeros((8, 8), np.float32), "shape (8, 8)"),
    (np.zeros((8, 8, 4), np.float32), "shape (8, 8, 4)"),
    ([np.zeros((8, 8, 3)), np.zeros((8, 8, 3))], "2 pictures where one is expected"),
    (object(), "cannot read a picture from a object"),
])
def test_picture_arrays_are_checked(picture, words):
    from styletransfer_utils.core.images import check_picture_array

    with pytest.raises(StyleTransferError, match=re.escape(words)):
        check_picture_array(picture)


def test_picture_arrays_that_pass():
    from styletransfer_utils.core.images import check_picture_array

    assert check_picture_array(np.zeros((4, 5, 3), np.uint8)).dtype == np.float32  # black is fine
    overshoot = np.full((4, 5, 3), 255.4, np.float32)  # a resampling filter's overshoot: clipped
    assert check_picture_array(overshoot).max() == 255.0
    assert check_picture_array(Image.fromarray(_rgb())).shape == (40, 60, 3)


def test_save_image_shapes_and_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert save_image("~/grey.png", np.full((40, 41), 100.0)).parent == tmp_path  # greyscale, ~ expanded
    assert load_image("~/grey.png").shape == (40, 41, 3)
    with pytest.raises(StyleTransferError, match=r"shape \(2, 6, 7, 3\)"):  # a batch of two
        save_image(tmp_path / "two.png", np.zeros((2, 6, 7, 3)))
    with pytest.raises(ImageError, match="max_size is 0"):
        load_image(tmp_path / "grey.png", max_size=0)


def test_an_output_that_is_no_path(tmp_path):
    for bad in (None, "", 3):
        with pytest.raises(ImageError, match="give a file name such as out.png"):
            save_image(bad, np.zeros((40, 40, 3)))
