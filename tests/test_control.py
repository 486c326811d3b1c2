"""Control over the result: colour preservation (luminance, colour matching) and style masks."""

import numpy as np
import pytest
from PIL import Image

from helpers import assert_one_line_error
from styletransfer_utils.gatys.control import (yiq, color_transform, keep_colors, luminance_picture, match_colors,
                                         style_masks)
from styletransfer_utils.errors import ImageError, SettingsError
from styletransfer_utils.core.images import resize
from styletransfer_utils.settings import Settings

SMALL = dict(size=64, sizes=(64,), steps=12, seed=0)


def _colourful(h=40, w=50, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([200 * x, 180 * (1 - y), 120 + 60 * np.sin(9 * x * y)], -1)
    return np.clip(base + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.float32)


def _grey(h=40, w=50, seed=1):
    return np.repeat(np.random.default_rng(seed).uniform(0, 255, (h, w, 1)), 3, -1).astype(np.float32)


def _chroma_error(picture, content):
    """Largest difference of the I and Q channels, over the pixels the conversion back to RGB did
    not clip (clipping a channel at 0 or 255 necessarily moves the chroma there)."""
    inside = (picture > 0.5).all(-1) & (picture < 254.5).all(-1)
    assert inside.mean() > 0.3, "too few unclipped pixels to compare"
    return np.abs(yiq(picture)[..., 1:] - yiq(content)[..., 1:])[inside].max()


# -- colour: the maths --------------------------------------------------------------------------

def test_keep_colors_takes_the_luminance_of_one_and_the_chroma_of_the_other():
    content, stylised = _colourful(), _colourful(seed=5)[::-1]
    out = keep_colors(stylised, content)
    assert _chroma_error(out, content) < 1e-4
    inside = (out > 0.5).all(-1) & (out < 254.5).all(-1)
    assert np.allclose(yiq(out)[..., 0][inside], yiq(stylised)[..., 0][inside], atol=1e-4)


def test_luminance_matching_gives_the_style_the_contents_mean_and_spread():
    style, content = _colourful(seed=3) * 0.4, _colourful(seed=4)
    grey = luminance_picture(style, like=content)
    assert np.allclose(grey[..., 0], grey[..., 1]) and np.allclose(grey[..., 0], grey[..., 2])
    y, target = yiq(grey)[..., 0] * 255, yiq(content)[..., 0] * 255
    assert abs(y.mean() - target.mean()) < 0.5 and abs(y.std() - target.std()) < 0.5


@pytest.mark.parametrize("method", ["symmetric", "cholesky"])
def test_colour_matching_gives_the_style_the_contents_mean_and_covariance(method):
    style, content = _colourful(seed=1)[:, ::-1, ::-1], _colourful(seed=2) * 0.8 + 20
    out = match_colors(style, content, method, clip=False).reshape(-1, 3).astype(np.float64)
    pixels = content.reshape(-1, 3).astype(np.float64)
    assert np.allclose(out.mean(0), pixels.mean(0), atol=1e-2)
    assert np.allclose(np.cov(out, rowvar=False), np.cov(pixels, rowvar=False), rtol=1e-3, atol=1e-2)


def test_the_symmetric_transform_does_not_depend_on_the_channel_order_and_cholesky_does():
    style, content = _colourful(seed=1), _colourful(seed=2)[::-1]
    for method, same in (("symmetric", True), ("cholesky", False)):
        direct = match_colors(style, content, method, clip=False)
        swapped = match_colors(style[..., ::-1], content[..., ::-1], method, clip=False)[..., ::-1]
        assert np.allclose(direct, swapped, atol=1e-2) == same, method


@pytest.mark.parametrize("method", ["symmetric", "cholesky"])
@pytest.mark.parametrize("pair", ["grey style", "grey content", "both grey", "one colour"])
def test_colour_matching_with_grey_pictures_gives_no_nan(method, pair):
    colour, grey = _colourful(), _grey()
    flat = np.full_like(colour, 90.0)
    style, content = {"grey style": (grey, colour), "grey content": (colour, grey), "both grey": (grey, grey),
                      "one colour": (flat, colour)}[pair]
    a, b = color_transform(style, content, method)
    out = match_colors(style, content, method)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b)) and np.all(np.isfinite(out))
    if pair in ("grey content", "both grey"):  # a grey photo's palette is grey: the style becomes grey
        assert np.abs(out[..., 0] - out[..., 1]).max() < 0.5 and np.abs(out[..., 1] - out[..., 2]).max() < 0.5


# -- masks: loading and checking ----------------------------------------------------------------

def test_masks_are_resized_to_the_output_and_scaled_to_0_1(tmp_path):
    path = tmp_path / "m.png"
    picture = np.zeros((80, 100), np.uint8)
    picture[:, :50] = 255
    Image.fromarray(picture).save(path)
    [from_file] = style_masks([path], 1, (40, 50))
    [from_array] = style_masks([picture.astype(np.float32)], 1, (40, 50))
    [from_bool] = style_masks([picture > 0], 1, (40, 50))
    for mask in (from_file, from_array, from_bool):
        assert mask.shape == (40, 50) and mask.dtype == np.float32
        assert np.allclose(mask[:, :25], 1.0) and np.allclose(mask[:, 25:], 0.0)


def test_a_label_picture_gives_one_region_per_style_darkest_colour_first():
    labels = np.zeros((200, 300, 3), np.float32)
    labels[:, 100:200] = (250, 220, 40)  # yellow: bright, second style
    labels[:, 200:] = (30, 60, 200)  # blue: dark, first style
    labels[:, 199] = (140, 140, 120)  # an anti-aliased edge, one column: joins a region
    blue, yellow = style_masks([labels], 2, (40, 60))
    assert blue[:, 41:].min() == 1 and blue[:, :38].max() == 0
    assert yellow[:, 21:38].min() == 1 and yellow[:, :20].max() == 0 and yellow[:, 41:].max() == 0
    with pytest.raises(SettingsError, match="2 coloured region"):
        style_masks([labels], 3, (40, 60))


@pytest.mark.parametrize("bad,words", [
    ("empty", "style mask 1 is empty"),
    ("count", "2 style mask(s) for 1 style"),
    ("aspect", "different shape from the 50x40 output"),
    ("text", "style mask 1:"),
    ("missing", "no such file"),
    ("nan", "NaN"),
    ("strings", "array of shape"),
])
def test_bad_masks_are_one_line_errors(tmp_path, bad, words):
    full = np.ones((40, 50), np.float32)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    masks = {"empty": [np.zeros((40, 50))], "count": [full, full], "aspect": [np.ones((50, 40))],
             "text": [text], "missing": [tmp_path / "nowhere.png"], "nan": [full * np.nan],
             "strings": [np.array([["a", "b"]])]}[bad]
    with pytest.raises((SettingsError, ImageError)) as info:
        style_masks(masks, 1, (40, 50))
    assert words in str(info.value) and "\n" not in str(info.value)


def test_settings_check_preserve_colors_and_masks_in_one_line():
    assert Settings(preserve_colors="luminance", style_masks=["a.png"]).style_masks == ("a.png",)
    for bad, words in [(dict(preserve_colors="colour"), "preserve_colors is 'colour'"),
                       (dict(color_transform="lab"), "color_transform is 'lab'"),
                       (dict(style_masks="a.png"), "one mask"), (dict(style_masks=()), "style_masks is empty")]:
        with pytest.raises(SettingsError, match=words) as info:
            Settings(**bad)
        assert "\n" not in str(info.value)


# -- the guided Gram matrix ---------------------------------------------------------------------

def test_a_guided_gram_matrix_with_a_full_mask_equals_the_plain_one():
    from styletransfer_utils.core.losses import gram_matrix, guided_gram_matrix

    features = np.random.default_rng(0).normal(size=(1, 6, 7, 5)).astype(np.float32)
    guided = np.asarray(guided_gram_matrix(features, np.ones((2, 6, 7), np.float32)))
    assert guided.shape == (2, 5, 5)
    assert np.allclose(guided, np.asarray(gram_matrix(features))[0], rtol=1e-5, atol=1e-6)


def test_a_guided_gram_matrix_sees_only_its_region_normalised_by_its_size():
    from styletransfer_utils.core.losses import gram_matrix, guided_gram_matrix

    features = np.random.default_rng(1).normal(size=(1, 6, 8, 4)).astype(np.float32)
    mask = np.zeros((1, 6, 8), np.float32)
    mask[0, :, :3] = 1
    guided = np.asarray(guided_gram_matrix(features, mask))[0]
    assert np.allclose(guided, np.asarray(gram_matrix(features[:, :, :3]))[0], rtol=1e-5, atol=1e-6)


# -- whole runs (VGG19) -------------------------------------------------------------------------

def test_luminance_transfer_keeps_the_contents_chroma(content_picture, style_picture, vgg_weights):
    from styletransfer_utils.gatys.run import stylize

    for sizes in ((64,), (48, 64)):  # one size, and coarse-to-fine
        result = stylize(content_picture, [style_picture], **{**SMALL, "sizes": sizes}, preserve_colors="luminance")
        content = content_picture  # the output has the content's shape here: no resampling to compare through
        assert result.image.shape == content.shape
        assert _chroma_error(result.image, content) < 1e-3
        assert np.abs(yiq(result.image)[..., 0] - yiq(content)[..., 0]).mean() > 0.01  # the luminance was painted


def test_colour_matching_runs_towards_the_recoloured_style(content_picture, style_picture, vgg_weights):
    from styletransfer_utils.gatys import StyleTransfer

    transfer = StyleTransfer(content_picture, [style_picture], Settings(**SMALL, preserve_colors="match"))
    recoloured = transfer.styles[0].reshape(-1, 3)
    assert np.allclose(recoloured.mean(0), content_picture.reshape(-1, 3).mean(0), atol=3)  # clipping moves it a little


def test_under_a_mask_the_unstyled_half_stays_near_the_content(style_picture, vgg_weights):
    from conftest import _smooth_picture
    from styletransfer_utils.gatys.run import stylize

    content = _smooth_picture(72, 96, seed=1)
    mask = np.zeros((72, 96), np.float32)
    mask[:, :48] = 1
    result = stylize(content, [style_picture], size=96, sizes=(96,), steps=20, seed=0, style_masks=[mask])
    moved = np.abs(result.image - content).mean(axis=(0, 2))  # per column, in levels of 255
    # the deep layers' receptive fields reach across the border (conv5_1's spans most of a 96 px
    # picture), so the quarter farthest from it is the one that must stay put
    styled, kept = moved[:24].mean(), moved[72:].mean()
    # without the mask that quarter is painted like the rest: 54 levels, against 12 under the mask (5 with
    # the paper's layers alike and style weight 7, where conv1_1 ... conv4_1 weigh 1.3x less)
    unmasked = stylize(content, [style_picture], size=96, sizes=(96,), steps=20, seed=0)
    free = np.abs(unmasked.image - content).mean(axis=(0, 2))[72:].mean()
    assert kept < free / 3, (kept, free)
    assert styled > 4 * kept, (styled, kept)


def test_two_styles_each_paint_their_own_region(content_picture, vgg_weights):
    from styletransfer_utils.gatys import StyleTransfer

    red, blue = np.zeros((48, 48, 3), np.float32), np.zeros((48, 48, 3), np.float32)
    red[..., 0], blue[..., 2] = 230, 230
    red = np.clip(red + np.random.default_rng(0).normal(0, 20, red.shape), 0, 255)
    blue = np.clip(blue + np.random.default_rng(1).normal(0, 20, blue.shape), 0, 255)
    h, w = content_picture.shape[:2]
    left = np.zeros((h, w), np.float32)
    left[:, : w // 2] = 1
    # from noise: the content photo's own colours would otherwise decide the halves at this size
    settings = Settings(**{**SMALL, "steps": 30}, style_weight=100.0, style_masks=(left, 1 - left), init="noise")
    image = StyleTransfer(content_picture, [red, blue], settings).run().image
    half = image.shape[1] // 2
    assert image[:, : half - 8, 0].mean() > image[:, half + 8:, 0].mean() + 40  # redder on the left
    assert image[:, half + 8:, 2].mean() > image[:, : half - 8, 2].mean() + 40  # bluer on the right


def test_masks_work_across_the_sizes_of_a_schedule(content_picture, style_picture, vgg_weights):
    from styletransfer_utils.gatys.run import stylize

    mask = np.ones(content_picture.shape[:2], np.float32)
    result = stylize(content_picture, [style_picture], **{**SMALL, "sizes": (40, 64)}, style_masks=[mask])
    assert result.image.shape[:2] == (48, 64) and [s for s, _ in result.sizes] == [40, 64]


def test_the_fast_command_keeps_colours_and_refuses_match(tmp_path, capsys, half_net):
    from styletransfer_utils.cli import main
    from styletransfer_utils.feedforward import stylize_fast

    picture = _colourful(48, 64)
    out = stylize_fast(half_net, picture, preserve_colors="luminance")
    assert _chroma_error(out, picture) < 1e-3
    Image.fromarray(picture.astype(np.uint8)).save(tmp_path / "in.png")
    assert_one_line_error(capsys, ["fast", "starry_night", str(tmp_path / "in.png"), "-o", str(tmp_path / "o.png"),
                                   "--preserve-colors", "match"], "use luminance")
    assert not (tmp_path / "o.png").exists()


def test_the_command_line_takes_masks_and_colour_options(tmp_path, capsys, content_picture, style_file, vgg_weights):
    from styletransfer_utils.cli import main

    Image.fromarray(content_picture.astype(np.uint8)).save(tmp_path / "c.png")
    mask = np.zeros(content_picture.shape[:2], np.uint8)
    mask[:, :32] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    out = tmp_path / "o.png"
    base = [str(tmp_path / "c.png"), str(style_file), "-o", str(out), "-q", "--size", "64", "--steps", "4"]
    assert main(base + ["--style-masks", str(tmp_path / "m.png"), "--preserve-colors", "luminance"]) == 0
    assert out.is_file()
    out.unlink()
    assert_one_line_error(capsys, base + ["--style-masks", f"{tmp_path / 'm.png'},{tmp_path / 'm.png'}"],
                          "2 style mask(s) for 1 style")
    assert_one_line_error(capsys, base + ["--preserve-colors", "sepia"], "preserve-colors is 'sepia'")
    assert not out.exists()
