"""Control over the result: keep the photo's colours, and paint regions with different styles.

Lesson: ``notebooks/07_controlling_the_result.ipynb``.

Follows Gatys, Ecker, Bethge, Hertzmann and Shechtman, "Controlling Perceptual Factors in Neural
Style Transfer" (CVPR 2017), and Gatys, Bethge, Hertzmann and Shechtman, "Preserving Color in
Neural Artistic Style Transfer" (arXiv:1606.05897, 2016).

**Colour** (``Settings.preserve_colors``):

* ``"luminance"``: the run sees only luminance. The content becomes its luminance ``Y`` (YIQ,
  as in the paper) and each style picture its own, shifted and scaled to the content's mean and
  spread; afterwards the result's ``Y`` is joined with the content's chroma ``I, Q``
  (:func:`keep_colors`). The colours are the photo's exactly; only light and dark are painted.
* ``"match"``: before the run each style picture is recoloured by the linear transform
  ``x -> A (x - mu_s) + mu_c`` that gives its pixels the content's mean and covariance
  (:func:`match_colors`). ``A`` is ``C_c^(1/2) C_s^(-1/2)`` with symmetric matrix square roots
  (the paper's "image analogies" variant, the default) or ``L_c L_s^-1`` with Cholesky factors.
  The symmetric one gives the same result whatever the order of the
  channels; Cholesky's depends on it. The strokes keep the style's contrast but use the photo's
  palette.

**Space** (``Settings.style_masks``): one mask per style picture, over the output (black: none of
that style, white: all of it), or one label picture whose colours are the regions. Each VGG19
layer sees the masks at its own resolution, and each style's Gram matrix is taken over its
region only, normalised by the region's size (:func:`~.losses.guided_gram_matrix`); a place
no mask covers has only the content loss, so it stays close to the photo.

Everything here is NumPy and scikit-image: no TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ImageError, SettingsError
from ..settings import COLOR_TRANSFORMS, PRESERVE_COLORS

#: A mask whose mean is below this covers no region: an error, not a silently unstyled run.
EMPTY_MASK = 1e-3
#: Mask and output may differ this much in aspect ratio (a few pixels of rounding) before it is an error.
MASK_ASPECT_TOLERANCE = 0.03
#: In a label picture, a colour covering less than this share of the pixels is an edge between
#: regions (anti-aliasing, JPEG), not a region: its pixels join the nearest region's colour.
LABEL_MIN_SHARE = 0.005


# -- colour ----------------------------------------------------------------------------------

def yiq(picture: np.ndarray) -> np.ndarray:
    """An RGB picture in ``[0, 255]`` as YIQ (``Y`` in ``[0, 1]``, ``I`` and ``Q`` about ``+-0.6``), float64."""
    from skimage.color import rgb2yiq

    return rgb2yiq(np.asarray(picture, np.float64) / 255.0)


def _rgb(channels: np.ndarray) -> np.ndarray:
    from skimage.color import yiq2rgb

    return np.clip(yiq2rgb(channels) * 255.0, 0.0, 255.0).astype(np.float32)


def luminance(picture: np.ndarray) -> np.ndarray:
    """The luminance ``Y`` of an RGB picture in ``[0, 255]``, shape ``(H, W)``."""
    return (yiq(picture)[..., 0] * 255.0).astype(np.float32)


def luminance_picture(picture: np.ndarray, like: np.ndarray | None = None) -> np.ndarray:
    """``picture``'s luminance as a grey RGB picture; with ``like``, shifted and scaled so its
    mean and standard deviation are ``like``'s luminance's (the paper's luminance matching)."""
    y = luminance(picture).astype(np.float64)
    if like is not None:
        target = luminance(like)
        y = (y - y.mean()) * (target.std() / max(y.std(), 1e-6)) + target.mean()
    return np.repeat(np.clip(y, 0.0, 255.0)[..., None], 3, axis=-1).astype(np.float32)


def keep_colors(stylised: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The luminance of ``stylised`` with the chroma (``I``, ``Q``) of ``content``.

    ``content`` is resized to ``stylised``'s shape when they differ.
    """
    from ..core.images import resize

    if content.shape[:2] != stylised.shape[:2]:
        content = resize(content, stylised.shape[:2])
    channels = yiq(content)
    channels[..., 0] = yiq(stylised)[..., 0]
    return _rgb(channels)


def _moments(picture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pixels = np.asarray(picture, np.float64).reshape(-1, 3)
    mean = pixels.mean(axis=0)
    cov = np.cov(pixels, rowvar=False)
    # a grey (or one-colour) picture has a singular covariance: a ridge keeps the roots finite
    return mean, cov + np.eye(3) * 1e-6 * max(np.trace(cov) / 3.0, 1.0)


def color_transform(style: np.ndarray, content: np.ndarray, method: str = "symmetric"):
    """``(A, b)`` such that ``A @ x + b`` gives the style's pixels ``x`` the content's mean and
    covariance (see the module's docstring for the two ``method``\\ s)."""
    if method not in COLOR_TRANSFORMS:
        raise SettingsError(f"color_transform is {method!r}", f"use one of {', '.join(COLOR_TRANSFORMS)}")
    from ..core.losses import matrix_power  # (imports Keras: only when colours are matched)

    mean_s, cov_s = _moments(style)
    mean_c, cov_c = _moments(content)
    if method == "symmetric":
        a = matrix_power(cov_c, 0.5, 1e-12) @ matrix_power(cov_s, -0.5, 1e-12)
    else:
        a = np.linalg.cholesky(cov_c) @ np.linalg.inv(np.linalg.cholesky(cov_s))
    return a, mean_c - a @ mean_s


def match_colors(style: np.ndarray, content: np.ndarray, method: str = "symmetric", *, clip: bool = True) -> np.ndarray:
    """``style`` recoloured to ``content``'s colour mean and covariance (clipped to ``[0, 255]``)."""
    a, b = color_transform(style, content, method)
    out = np.asarray(style, np.float64) @ a.T + b
    return (np.clip(out, 0.0, 255.0) if clip else out).astype(np.float32)


def prepare_colors(content: np.ndarray, styles: list, mode: str | None, method: str = "symmetric"):
    """``(content, styles, finish)`` for a run with ``preserve_colors=mode``.

    The run optimises towards the returned pictures; ``finish(picture)`` turns its result (or
    any picture of the run, at any size) into the one to show: for ``"luminance"`` the content's
    colours put back, otherwise the picture itself.
    """
    if mode is None:
        return content, styles, _unchanged
    if mode == "match":
        return content, [match_colors(style, content, method) for style in styles], _unchanged
    original = np.array(content, np.float32)
    return (luminance_picture(content), [luminance_picture(style, like=content) for style in styles],
            lambda picture: keep_colors(picture, original))


def check_network_colors(preserve_colors) -> None:
    """A one-line error unless ``preserve_colors`` suits a trained network (None or luminance)."""
    if preserve_colors == "match":
        raise SettingsError("preserve_colors 'match' recolours the style picture before a run, and a trained network "
                            "has already learnt its style's colours", "use luminance with a network, or train on a "
                            "style picture recoloured by styletransfer_utils.gatys.control.match_colors")
    if preserve_colors not in (None, "luminance"):
        raise SettingsError(f"preserve_colors is {preserve_colors!r}", "use luminance, or None to keep the network's colours")


def _unchanged(picture: np.ndarray) -> np.ndarray:
    return picture


Finish = Callable[[np.ndarray], np.ndarray]


# -- space -----------------------------------------------------------------------------------

def _mask_array(mask, index: int) -> np.ndarray:
    """A mask (path or array) as a float array in ``[0, 1]``, ``(H, W)`` or ``(H, W, 3)``."""
    if isinstance(mask, (str, Path)):
        from ..core.images import load_image

        try:
            return load_image(mask) / 255.0
        except ImageError as exc:
            raise ImageError(f"style mask {index + 1}: {exc.problem}", exc.fix) from None
    array = np.asarray(mask)
    if array.dtype == bool:
        array = array.astype(np.float32)
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        array = array[..., :3]
    if not np.issubdtype(array.dtype, np.number) or array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        raise SettingsError(f"style mask {index + 1} is a {array.dtype} array of shape {array.shape}",
                            "pass an (H, W) array of 0 to 1 (or 0 to 255), or a picture file")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise SettingsError(f"style mask {index + 1} contains NaN or infinite values", "pass finite values")
    return array / 255.0 if array.max() > 1.0 else array


def _fit(mask: np.ndarray, shape: tuple[int, int], index: int) -> np.ndarray:
    """``mask`` (2-D) at the output's ``shape``: resized, after checking the aspect ratios agree."""
    h, w = shape
    mh, mw = mask.shape[:2]
    if abs((mw / mh) / (w / h) - 1.0) > MASK_ASPECT_TOLERANCE:
        raise SettingsError(f"style mask {index + 1} is {mw}x{mh} pixels, a different shape from the {w}x{h} output",
                            "draw the mask over the content picture, at its aspect ratio")
    if (mh, mw) != (h, w):
        mask = resize_mask(mask, (h, w))
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


def resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A 2-D mask resized to ``(height, width)`` by area averaging (it stays in ``[0, 1]``)."""
    from PIL import Image

    h, w = shape
    return np.asarray(Image.fromarray(np.asarray(mask, np.float32), mode="F").resize((w, h), Image.BOX), np.float32)


def _labels(picture: np.ndarray, n_styles: int) -> list[np.ndarray]:
    """One 0/1 mask per style from a label picture: black is no style; the other colours, darkest
    first (by luminance), are the styles in order."""
    quantised = np.round(picture.reshape(-1, 3) * 255.0).astype(np.int64)
    colours, inverse, counts = np.unique(quantised, axis=0, return_inverse=True, return_counts=True)
    keep = counts >= LABEL_MIN_SHARE * len(quantised)
    regions = colours[keep]
    # an edge pixel belongs to the nearest region colour
    nearest = np.argmin(((quantised[:, None, :] - regions[None]) ** 2).sum(-1), axis=1)
    styled = [i for i in np.argsort(regions @ np.array([0.299, 0.587, 0.114])) if regions[i].max() > 24]
    if len(styled) != n_styles:
        raise SettingsError(f"the label picture has {len(styled)} coloured region(s) for {n_styles} styles",
                            "paint one colour per style (black for no style), or give one black-and-white mask per style")
    return [(nearest == i).reshape(picture.shape[:2]).astype(np.float32) for i in styled]


def style_masks(masks, n_styles: int, shape: tuple[int, int]) -> list[np.ndarray]:
    """The masks of a run, one ``(H, W)`` float32 array in ``[0, 1]`` per style, at ``shape``.

    ``masks`` holds one mask per style (paths or arrays: black-and-white pictures, or arrays of
    0 to 1), or a single label picture when there are several styles. Raises a one-line error for
    a count that does not match the styles, a file that is not a picture, an empty mask, or a
    mask of another aspect ratio.
    """
    masks = list(masks)
    arrays = [_mask_array(m, i) for i, m in enumerate(masks)]
    if len(arrays) == 1 and n_styles > 1 and arrays[0].ndim == 3:
        arrays = _labels(arrays[0], n_styles)
    elif len(arrays) != n_styles:
        raise SettingsError(f"{len(arrays)} style mask(s) for {n_styles} style picture(s)",
                            "give one mask per style picture (or one label picture with a colour per style)")
    out = []
    for i, array in enumerate(arrays):
        if array.ndim == 3:  # a black-and-white picture read as RGB: its brightness
            array = array.mean(axis=-1)
        mask = _fit(array, shape, i)
        if mask.mean() < EMPTY_MASK:
            raise SettingsError(f"style mask {i + 1} is empty (black everywhere)",
                                "paint the region of that style white, or leave that style out")
        out.append(mask)
    return out


__all__ = ["PRESERVE_COLORS", "COLOR_TRANSFORMS", "yiq", "luminance", "luminance_picture", "keep_colors",
           "color_transform", "match_colors", "prepare_colors", "check_network_colors", "style_masks", "resize_mask"]
