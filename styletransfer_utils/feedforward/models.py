"""Model files and inference: save and load networks, the shipped ones by name, stylise.

``.keras`` files hold architecture and weights, ``.weights.h5`` files weights only; the shipped
networks live in ``styletransfer_utils/models/`` as ``NAME.keras`` with a training record
``NAME.json`` beside each (:mod:`.records`). :func:`objective` scores any result on a network's
training objective, for comparisons with Gatys' method or other packages.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from ..gatys.control import check_network_colors, keep_colors  # noqa: E402
from ..errors import ImageError, ModelError, SettingsError  # noqa: E402
from ..files import atomic_path  # noqa: E402
from ..core.images import as_picture, check_picture_array, load_image, long_side_shape, preprocess  # noqa: E402
from ..limits import MIN_NETWORK_SIDE  # noqa: E402
from ..core.objective import LOSS_TERMS  # noqa: E402
from ..checks import choice  # noqa: E402
from ..settings import PRECISIONS, SPIKES, TrainSettings, gatys_settings  # noqa: E402
from .network import (MODEL_NAMES, MULTIPLE, WIDTHS, build_transformer, deep_norms, keras, largest_dilation,  # noqa: E402
                      spike_free, spike_statistics, with_precision)

MODEL_SUFFIXES = (".keras", ".weights.h5")

#: Pixels of mirrored picture put around a picture before the network and cropped off after.
#: Every convolution pads its own feature map by reflection, and at a quarter of the picture's
#: resolution (the residual blocks) or a half (the first upsampling) a mirrored feature map is not
#: the features of a mirrored picture: left to itself the network paints a seam of speckles one to
#: four pixels wide along each edge. Three of the network's 4-pixel cells of real (mirrored)
#: picture give those layers true context at the edge. Two were enough for the networks trained on
#: Johnson et al.'s objective; the networks that paint (Gatys' objective) still drew a line along
#: an edge inside 8 px: the outermost rows of the coffee photo at 256 px differed 1.94x as much as
#: inside ones with the_scream, 1.29x with shipwreck; with 12 px 1.13x and 1.27x (16 px: 1.26x and
#: 1.21x), for 3% more pixels at 512 px. A wider margin shifts the instance-norm statistics, hence
#: the whole picture, further: inside, 2.6-3.8 levels from the bare network's picture at 12 px,
#: 1.5-2.7 at 8 px, 2.9-4.8 at 16 px.
BORDER_MARGIN = 3 * MULTIPLE


def border_margin(model) -> int:
    """The mirrored margin ``fast`` paints ``model``'s pictures inside: :data:`BORDER_MARGIN`, and
    4 px more for a network with dilated residual blocks, which see 8 px further at each: at 12 px
    the_scream's dilated network drew a line 9 px inside the edges (1.33x the inside, averaged over
    the gallery's edges at 512 px), at 16 px 1.27x (``bench/RESULTS.md``, "Dilated residual blocks")."""
    return BORDER_MARGIN + MULTIPLE * (largest_dilation(model) - 1)

#: The long side a network paints its strokes for: the style picture's size in training
#: (``TrainSettings.style_size``). A network paints strokes of a fixed size in pixels, so on a
#: 1024 px picture they were half as large, relative to the picture, as the Gatys picture's, whose
#: style picture grows with the output; the painting's mid-sized strokes were missing (against the
#: Gatys default of 2026-12-05 morning: style 1.36-1.81x the Gatys picture's at 1024 px against
#: 1.15-1.42x at 512 px; with the pyramid of :func:`stylize_fast`, 1.08-1.37x; against the 1024 px
#: default of that afternoon, 1.17-1.34x, ``bench/RESULTS.md``). So a larger picture is painted at
#: this size too, and keeps only the detail of its own size.
PAINT_SIZE = TrainSettings().style_size
#: A picture paints at its own size alone up to this many times ``paint_size``.
PAINT_SLACK = 1.25

#: Shipped models live here as NAME.keras or NAME.weights.h5.
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"


def model_kind(path: Path) -> str:
    name = path.name.lower()
    for suffix in MODEL_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise ModelError(f"cannot tell the kind of model file {path}", "end the name with .keras or .weights.h5")


def check_model_path(path) -> Path:
    """Fail early, with a fix, if a model cannot be written to ``path``."""
    path = Path(path)
    model_kind(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ModelError(f"output folder {parent} does not exist", "create it or choose another model path")
    if path.is_dir():
        raise ModelError(f"model path {path} is a folder", "give a file name such as my_style.keras")
    if not os.access(parent, os.W_OK):
        raise ModelError(f"cannot write to {parent} (permission denied)", "choose a folder you can write to")
    return path


def save_model(model, path) -> Path:
    """Save to ``.keras`` (architecture + weights) or ``.weights.h5`` (weights only), atomically."""
    if not hasattr(model, "save_weights"):
        raise ModelError(f"cannot save a {type(model).__name__} as a model", "pass the Keras model, e.g. trainer.model")
    path = check_model_path(path)
    kind = model_kind(path)
    if kind != ".keras" and largest_dilation(model) > 1:
        raise ModelError(f"{path}: a weights file cannot keep the network's dilated residual blocks",
                         "save it as NAME.keras")
    try:
        with atomic_path(path) as tmp:
            if kind == ".keras":
                model.save(tmp)
            else:
                model.save_weights(tmp)
    except OSError as exc:
        raise ModelError(f"cannot write {path} ({exc.strerror or exc})", "choose another model path") from None
    return path


def load_model_file(path, *, precision: str = "float32"):
    """Load a transformation network from a ``.keras`` or ``.weights.h5`` file."""
    choice("precision", precision, PRECISIONS)  # the caller's error, not the file's
    path = Path(path).expanduser()
    kind = model_kind(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such file", "check the path, or train a model with 'styletransfer train'")
    try:
        if kind == ".keras":
            model = keras.models.load_model(path, compile=False)
            if model.name not in MODEL_NAMES.values():
                raise ModelError(f"{path} is a Keras model but not a style transformer", "give a model made by 'styletransfer train'")
            return _with_spikes(with_precision(model, precision), path)
        # weights only: the width is read from the file by trying each
        for width in WIDTHS:
            model = build_transformer(width=width, precision=precision)
            try:
                with warnings.catch_warnings():  # Keras notes that weightless layers (padding, crop) have no group
                    warnings.filterwarnings("ignore", message="Skipping nested container")
                    model.load_weights(path)
                return _with_spikes(model, path)
            except (ValueError, KeyError):
                continue
        raise ModelError(f"{path} does not hold transformer weights", "give a model made by 'styletransfer train'")
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py/zip/Keras raise many kinds
        raise ModelError(f"{path} is not a readable model ({type(exc).__name__})",
                         "re-save it, or give a .keras/.weights.h5 file made by 'styletransfer train'") from None


def model_base(output) -> Path:
    """``my_style.keras`` or ``my_style.weights.h5`` -> ``my_style`` (same folder)."""
    output = Path(output)
    return output.with_name(output.name[: -len(model_kind(output))])


def record_path(output) -> Path:
    """Where the training record of a model goes: ``my_style.keras`` -> ``my_style.json``."""
    return model_base(output).with_name(model_base(output).name + ".json")


#: Training photos whose spikes :func:`measure_spikes` measures (at the paint size).
SPIKE_PHOTOS = 12


def measure_spikes(model, paths, size: int = PAINT_SIZE) -> dict:
    """:func:`~.network.spike_statistics` of ``model`` on the first :data:`SPIKE_PHOTOS` readable
    pictures of ``paths`` (sorted), at ``size`` px, in float32: what ``styletransfer train``
    writes into a model's record, so that ``fast`` clips its spikes in one pass."""
    pictures = []
    for path in sorted(map(Path, paths)):
        try:
            pictures.append(load_image(path, size))
        except ImageError:
            continue
        if len(pictures) == SPIKE_PHOTOS:
            break
    return spike_statistics(with_precision(model, "float32"), pictures) if pictures else {}


def _with_spikes(model, path: Path):
    """``model``, carrying the spike statistics of its training record (``spike_statistics``) if
    the record has them for each of its deep instance norms; :func:`_painter` uses them."""
    try:
        stored = json.loads(record_path(path).read_text()).get("spike_statistics")
    except (OSError, ValueError, AttributeError):  # no record, or one that is not a JSON object
        stored = None
    deep = deep_norms(model)
    try:
        fits = bool(deep) and isinstance(stored, dict) and set(stored) == {layer.name for layer in deep} and all(
            len(stored[layer.name][key]) == layer.gamma.shape[0]
            and np.isfinite(np.asarray(stored[layer.name][key], dtype=np.float64)).all()
            for layer in deep for key in ("mean", "var"))
    except (KeyError, TypeError, ValueError):  # ValueError: numbers that are not numbers
        fits = False
    if fits:
        object.__setattr__(model, "_styletransfer_spikes", stored)
    return model


def shipped_models() -> dict[str, Path]:
    """Models shipped with the package: name -> file (``styletransfer_utils/models/NAME.keras``)."""
    found = {}
    if MODELS_DIR.is_dir():
        for p in sorted(MODELS_DIR.iterdir()):
            for suffix in MODEL_SUFFIXES:
                if p.name.lower().endswith(suffix) and p.is_file():
                    found.setdefault(p.name[: -len(suffix)], p)
    return found


def load_model(name_or_path, *, precision: str = "float32"):
    """A transformation network from a file path, or a shipped model by name (``"starry_night"``)."""
    ref = str(name_or_path)
    path = Path(ref)
    if path.exists() or any(ref.lower().endswith(s) for s in MODEL_SUFFIXES) or os.sep in ref:
        return load_model_file(path, precision=precision)
    shipped = shipped_models()
    key = ref.lower().replace("-", "_")
    if key not in shipped:
        names = ", ".join(shipped) if shipped else "none are shipped yet"
        raise ModelError(f"no model file or shipped model named {ref!r}",
                         f"give a .keras or .weights.h5 file, or a shipped name ({names})")
    return load_model_file(shipped[key], precision=precision)


def stylize_fast(model, picture, *, max_size: int | None = None, preserve_colors: str | None = None,
                 paint_size: int | None = PAINT_SIZE, spikes: str = "clip") -> np.ndarray:
    """Stylise one picture (path or RGB float array in [0, 255]) with the network.

    ``model`` is a Keras model, a path or a shipped model's name. Returns an RGB float32 array
    in ``[0, 255]`` of the picture's size (a path's long side is capped at ``max_size``).
    ``preserve_colors="luminance"`` keeps the picture's colours: the network's luminance with
    the photo's chroma (:func:`~styletransfer_utils.gatys.control.keep_colors`). The network sees the
    picture inside a mirrored margin (:func:`border_margin`), so its edges show no seam.

    A picture up to 1.25 times ``paint_size`` (:data:`PAINT_SIZE`, the style picture's size in
    training) is one pass of the network. A larger one is painted as a Laplacian pyramid: the
    network paints it at ``paint_size`` and at each doubling up to its own size; each size keeps
    its own band of detail (its picture minus that picture shrunk to the next size down) on top of
    the smaller sizes' picture, enlarged. So the painting's strokes keep their size relative to the
    picture, as in a Gatys run, and the full size still draws the fine detail; it costs one more
    pass at half the size and the resizing, about 1.3x the time of one pass at 1024 px.
    ``paint_size=None`` paints in one pass at any size.

    ``spikes="clip"`` runs the network without its spikes (:func:`~.network.spike_free`): where
    the network would paint a white or coloured dab, it paints what surrounds it, and everywhere
    else the same picture: in one pass where the model's training record holds its spike
    statistics (:func:`measure_spikes`; the shipped ones and those ``train`` writes do), else with
    its deeper layers run twice, for 1.1-1.35x the time. ``spikes="keep"`` runs it as it is.
    """
    check_network_colors(preserve_colors)
    choice("spikes", spikes, SPIKES)
    if paint_size is not None and (isinstance(paint_size, bool) or not isinstance(paint_size, (int, np.integer))
                                   or paint_size < MIN_NETWORK_SIDE):
        raise SettingsError(f"paint_size is {paint_size!r}",
                            f"use a whole number of pixels, at least {MIN_NETWORK_SIDE}, or None to paint in one pass")
    if not hasattr(model, "predict"):
        model = load_model(model)
    if isinstance(picture, (str, Path)):
        picture = load_image(picture, max_size)
    arr = check_picture_array(picture)
    if min(arr.shape[:2]) < MIN_NETWORK_SIDE:
        raise ImageError(f"picture is only {arr.shape[1]}x{arr.shape[0]} pixels",
                         f"use a picture at least {MIN_NETWORK_SIDE} pixels on each side")
    out = _paint(model, arr, paint_size, spikes == "clip")
    return out if preserve_colors is None else keep_colors(out, arr)


def paints_a_pyramid(long_side: int, paint_size: int | None = PAINT_SIZE) -> bool:
    """Whether :func:`stylize_fast` paints a picture this long at smaller sizes too."""
    return paint_size is not None and long_side > PAINT_SLACK * paint_size


def pyramid_shapes(h: int, w: int, paint_size: int | None = PAINT_SIZE) -> list[tuple[int, int]]:
    """The sizes :func:`stylize_fast` paints a ``h`` x ``w`` picture at, largest first: the picture's
    own, then halving the long side down to ``paint_size`` (never below it). A panorama whose short
    side would fall under :data:`~styletransfer_utils.limits.MIN_NETWORK_SIDE` stops where it is."""
    shapes = [(h, w)]
    while paints_a_pyramid(max(shapes[-1]), paint_size):
        long_side = max(shapes[-1])
        smaller = long_side_shape(*shapes[-1], max(paint_size, (long_side + 1) // 2))
        if min(smaller) < MIN_NETWORK_SIDE:
            break
        shapes.append(smaller)
    return shapes


def _paint(model, arr: np.ndarray, paint_size: int | None, clip_spikes: bool = True) -> np.ndarray:
    """The network's picture of ``arr``: one pass, or a pyramid of passes (see :func:`stylize_fast`)."""
    import tensorflow as tf

    shapes = pyramid_shapes(*arr.shape[:2], paint_size)
    smaller = tf.constant(np.array(shapes[1:], np.int32).reshape(-1, 2))
    try:
        out = _painter(model, len(shapes), clip_spikes)(tf.convert_to_tensor(arr, tf.float32), smaller)
    except tf.errors.InvalidArgumentError:
        raise ModelError("the model's picture is not the size of the picture it was given, so it is no style network",
                         "load a model made by 'styletransfer train' or a shipped one") from None
    return out.numpy()


def _painter(model, levels: int, clip_spikes: bool = True):
    """One compiled function for the whole of :func:`_paint` (margins, passes, resizing, sums) at
    ``levels`` sizes, with or without :func:`~.network.spike_free`, kept on the model (as is the
    spike-free network they share): ``paint(picture, smaller_shapes)``. In one graph, rather
    than NumPy and TensorFlow calls in turn, a 1024 px pyramid takes 6-11% less time. Each is traced
    once, for pictures of any size."""
    import tensorflow as tf

    painters = getattr(model, "_styletransfer_painters", None)
    if painters is None:
        painters = {}
        object.__setattr__(model, "_styletransfer_painters", painters)
    if (levels, clip_spikes) in painters:
        return painters[levels, clip_spikes]
    shape = tuple(getattr(model, "output_shape", ()) or ())
    if len(shape) != 4 or shape[-1] != 3:
        raise ModelError(f"the model gives arrays of shape {shape}, not pictures, so it is no style network",
                         "load a model made by 'styletransfer train' or a shipped one")
    network = model
    if clip_spikes:  # one network without spikes for every level count; one pass where the record measured them
        network = getattr(model, "_styletransfer_spike_free", None)
        if network is None:
            network = spike_free(model, statistics=getattr(model, "_styletransfer_spikes", None))
            object.__setattr__(model, "_styletransfer_spike_free", network)
    margin = border_margin(model)

    def one_pass(x):
        # The network over x inside its mirrored margin, clipped to [0, 255]. The margin divides by
        # 4, so the picture keeps its place on the network's 4-pixel grid and its inside comes out
        # as without it, but for the instance-norm statistics; the bottom and right mirror further,
        # to sides that divide by MULTIPLE (what the network's own pad_to_multiple would do).
        h, w, m = tf.shape(x)[0], tf.shape(x)[1], margin
        padded = tf.gather(tf.gather(x, _mirrored(h, m, m + (-h) % MULTIPLE), axis=0),
                           _mirrored(w, m, m + (-w) % MULTIPLE), axis=1)
        out = network(padded[None], training=False)[0]
        tf.debugging.assert_equal(tf.shape(out), tf.shape(padded))
        return tf.clip_by_value(tf.cast(out[m:m + h, m:m + w], tf.float32), 0.0, 255.0)

    @tf.function(input_signature=[tf.TensorSpec((None, None, 3), tf.float32), tf.TensorSpec((levels - 1, 2), tf.int32)])
    def paint(x, smaller_shapes):
        pictures = [x]  # the picture at each size, each shrunk from the one above
        for i in range(levels - 1):
            pictures.append(_shrink(pictures[-1], smaller_shapes[i]))
        painted = one_pass(pictures[-1])
        for picture in reversed(pictures[:-1]):  # each size's own detail on top of the sizes below it
            full = one_pass(picture)
            detail_below = painted - _shrink(full, tf.shape(painted)[:2])
            painted = tf.clip_by_value(full + _enlarge(detail_below, tf.shape(full)[:2]), 0.0, 255.0)
        return painted

    _quiet_painter_retracing(tf)
    painters[levels, clip_spikes] = paint
    return paint


def _quiet_painter_retracing(tf) -> None:
    """Keep TensorFlow's note on frequent retracing about these painters off the user's screen.

    Each network traces one painter per number of pyramid levels, by design; a notebook that
    shows three networks at two sizes traces six, which TensorFlow reports as a possible mistake
    (five traces in ten calls). Other functions' notes still show."""
    logger = tf.get_logger()
    if not any(isinstance(f, _PainterRetracingFilter) for f in logger.filters):
        logger.addFilter(_PainterRetracingFilter())


class _PainterRetracingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "_painter.<locals>.paint" not in record.getMessage()


def _mirrored(n, before, after):
    """Indices ``-before .. n + after - 1`` of an axis of ``n``, mirrored back inside it as NumPy's
    ``mode="reflect"`` does, back and forth where a side is shorter than the margin (an 8-pixel
    picture)."""
    import tensorflow as tf

    period = 2 * (n - 1)
    i = tf.math.floormod(tf.range(-before, n + after), period)
    return tf.where(i >= n, period - i, i)


def _shrink(picture, shape):
    """A float RGB picture (HxWx3) shrunk to ``shape`` by averaging areas, without rounding to
    levels (a difference of two pictures has negative values)."""
    import tensorflow as tf

    return tf.image.resize(picture[None], shape, method="area")[0]


def _enlarge(picture, shape):
    """A float RGB picture (HxWx3) enlarged to ``shape`` with a Lanczos filter, which keeps the
    smaller size's strokes sharper than a bilinear one (style 0.04-0.07 times the Gatys picture's
    better at 1024 px on four of six held-out pairs, level on two; ``bench/RESULTS.md``)."""
    import tensorflow as tf

    return tf.image.resize(picture[None], shape, method="lanczos3")[0]


def objective(picture, content, style, settings: TrainSettings | None = None) -> dict:
    """The training objective's terms for one result, in float32: ``{total, content, style, tv}``.

    ``picture`` is a stylised version of ``content`` (both RGB arrays of one size, or paths);
    the style picture is resized to ``picture``'s long side, as :func:`gatys_settings` does. Use
    it to compare a network's output with a Gatys result or another package's on equal terms.
    """
    from ..gatys.transfer import StyleTransfer

    picture, content = as_picture(picture), as_picture(content)
    if picture.shape != content.shape:
        raise SettingsError(f"result {picture.shape} and content {content.shape} differ in size",
                            "resize the result to the content picture first")
    size = max(content.shape[:2])
    transfer = StyleTransfer(content, [style], gatys_settings(settings, size=size, precision="float32"))
    terms, _ = transfer.value_and_grad(preprocess(picture))
    return dict(zip(LOSS_TERMS, map(float, np.asarray(terms))))
