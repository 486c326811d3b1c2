"""Figures and tables the notebooks draw: VGG19's layer table, feature-map grids, histograms,
feature statistics and loss curves.

Lessons: ``notebooks/01_preprocessing.ipynb`` (histograms, feature statistics),
``notebooks/02_vgg19_feature_maps.ipynb`` (layer table, feature-map grids, activations over the photo) and
``notebooks/04_optimization_and_acceleration.ipynb`` (loss curves, pictures at their pixel size).

Everything here only *shows* things; the numbers come from :mod:`..core.features`,
:mod:`..core.images` and :mod:`..gatys`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SettingsError
from ..core.features import VGG19_LAYERS, resolve_layer_name


@dataclass(frozen=True)
class LayerInfo:
    """One row of VGG19's layer table (see :func:`vgg19_layer_table`)."""

    name: str  #: Keras name, e.g. ``block4_conv2``
    paper_name: str  #: the paper's name, e.g. ``conv4_2``
    kind: str  #: ``conv`` or ``pool``
    height: int
    width: int
    channels: int
    receptive_field: int  #: side in input pixels of the patch one output position sees
    stride: int  #: input pixels between neighbouring output positions
    parameters: int  #: weights + biases of the layer


def paper_name(name: str) -> str:
    """``block4_conv2`` -> ``conv4_2``; ``block3_pool`` -> ``pool3`` (the paper's names)."""
    key = resolve_layer_name(name)
    block, rest = key.split("_")
    b = block.removeprefix("block")
    return f"pool{b}" if rest == "pool" else f"conv{b}_{rest.removeprefix('conv')}"


def vgg19_layer_table(height: int = 224, width: int = 224) -> list[LayerInfo]:
    """Shape, receptive field, stride and parameter count of every VGG19 layer (no top).

    Computed from the architecture (3x3 convolutions with stride 1 and "same" padding, 2x2
    pooling with stride 2), so no network needs to be built. The receptive field grows by
    ``(k - 1) * stride`` at each layer: 2 pixels per convolution times the current stride.
    """
    rows, rf, stride, h, w, channels_in = [], 1, 1, height, width, 3
    for name, kind, channels in VGG19_LAYERS:
        if kind == "conv":
            rf += 2 * stride
            params = 3 * 3 * channels_in * channels + channels
        else:
            rf += stride
            stride *= 2
            h, w = h // 2, w // 2
            params = 0
        rows.append(LayerInfo(name, paper_name(name), kind, h, w, channels, rf, stride, params))
        channels_in = channels
    return rows


def format_table(rows, columns=None, *, floatfmt: str = "{:.3g}") -> str:
    """Plain-text table of dataclass instances or dicts (no third-party dependency)."""
    rows = [r if isinstance(r, dict) else r.__dict__ for r in rows]
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())

    def cell(v):
        if isinstance(v, float):
            return floatfmt.format(v)
        return str(v)

    body = [[cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(columns)]
    line = lambda items: "  ".join(s.rjust(wd) for s, wd in zip(items, widths))  # noqa: E731
    return "\n".join([line(columns), line(["-" * wd for wd in widths]), *map(line, body)])


def _as_maps(features) -> np.ndarray:
    arr = np.asarray(features, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr[0]
    if arr.ndim != 3:
        raise SettingsError(f"feature maps of shape {arr.shape}", "pass one layer's output, (1, H, W, N) or (H, W, N)")
    return arr


def _check_channels(maps: np.ndarray, channels) -> list[int]:
    channels = [int(c) for c in channels]
    bad = [c for c in channels if not 0 <= c < maps.shape[-1]]
    if bad:
        raise SettingsError(f"channel {bad[0]} is outside this layer's 0..{maps.shape[-1] - 1}",
                            f"pick channels below {maps.shape[-1]}")
    return channels


def top_channels(features, count: int = 16) -> list[int]:
    """Indices of the ``count`` channels with the largest mean activation (most alive first)."""
    maps = _as_maps(features)
    return [int(i) for i in np.argsort(-maps.mean(axis=(0, 1)))[:count]]


def feature_map_grid(features, channels=None, *, columns: int = 8, size: float = 1.6, title=None,
                     cmap: str = "viridis"):
    """Draw feature maps (one per channel) in a grid and return the matplotlib figure.

    ``features`` is one layer's output, ``(1, H, W, N)``; ``channels`` the channel indices to
    show (default: the 16 most active, see :func:`top_channels`). Each map is scaled to its own
    range, so weak channels stay visible; the title of each panel is its channel and maximum.
    """
    import matplotlib.pyplot as plt

    maps = _as_maps(features)
    channels = top_channels(maps) if channels is None else _check_channels(maps, channels)
    rows = max(1, (len(channels) + columns - 1) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, ch in zip(axes.flat, channels):
        ax.imshow(maps[..., ch], cmap=cmap)
        ax.set_title(f"#{ch} max {maps[..., ch].max():.0f}", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def feature_map_image(features, channel: int, *, cmap: str = "viridis") -> np.ndarray:
    """One channel of a layer's output as an RGB ``uint8`` picture (scaled to its own range)."""
    import matplotlib

    maps = _as_maps(features)
    (channel,) = _check_channels(maps, [channel])
    m = maps[..., channel]
    span = float(m.max() - m.min())
    norm = (m - m.min()) / span if span > 0 else np.zeros_like(m)
    rgba = matplotlib.colormaps[cmap](norm)
    return (rgba[..., :3] * 255).round().astype(np.uint8)


def activation_overlay(picture, features, channels=None, *, top: int = 3, columns: int = 4, size: float = 3.2,
                       title=None):
    """Where channels fire, drawn over the picture they were computed from; returns the figure.

    For each channel of ``features`` (one layer's output for ``picture``, ``(1, h, w, N)``;
    default: the 4 most active, see :func:`top_channels`), its map is upsampled (bilinear) to the
    picture's size and the picture is dimmed where the map is quiet, so what stays bright is what
    the channel responds to. Its ``top`` strongest positions are outlined as red squares one
    feature-map cell wide (the layer's stride, e.g. 16 px at conv5_1).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    from PIL import Image

    photo = np.clip(np.asarray(picture, dtype=np.float32), 0, 255) / 255.0
    maps = _as_maps(features)
    channels = top_channels(maps, 4) if channels is None else _check_channels(maps, channels)
    (height, width), (h, w) = photo.shape[:2], maps.shape[:2]
    cell_y, cell_x = height / h, width / w
    rows = max(1, (len(channels) + columns - 1) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(size * columns, rows * (size * height / width + 0.35)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, ch in zip(axes.flat, channels):
        m = np.maximum(maps[..., ch], 0.0)
        up = np.asarray(Image.fromarray(m.astype(np.float32)).resize((width, height), Image.Resampling.BILINEAR))
        light = up / up.max() if up.max() > 0 else np.zeros_like(up)
        ax.imshow(photo * (0.15 + 0.85 * light[..., None]))
        for flat in np.argsort(-m, axis=None)[:top]:
            y, x = divmod(int(flat), w)
            if m[y, x] <= 0:  # a silent channel has no strongest positions
                break
            ax.add_patch(Rectangle((x * cell_x, y * cell_y), cell_x, cell_y, fill=False, edgecolor="red", linewidth=2))
        ax.set_title(f"#{ch} max {m.max():.0f}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def pixel_grid(pictures, row_labels, column_labels, *, highlight_last_column: bool = False, dpi: int = 100,
               left: int = 96, top: int = 40, gap: int = 4):
    """A grid of equally sized pictures at their own pixel size: one picture pixel is one screen
    pixel at ``dpi``, with no smoothing (unlike :func:`~.images.show_grid`, which scales them).

    ``pictures`` is a list of rows of RGB arrays in ``[0, 255]``; each row gets a label on the left
    (``left`` pixels wide) and each column a title on top (``top`` pixels high), the last one in
    colour with ``highlight_last_column``. Returns the figure.
    """
    import matplotlib.pyplot as plt

    from ..core.images import to_uint8

    h, w = np.asarray(pictures[0][0]).shape[:2]
    width, height = left + len(pictures[0]) * (w + gap), top + len(pictures) * (h + gap)
    fig = plt.figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    for i, (row, label) in enumerate(zip(pictures, row_labels)):
        y = height - top - i * (h + gap) - h
        fig.text(4 / width, (y + h / 2) / height, label, va="center", fontsize=8)
        for j, picture in enumerate(row):
            ax = fig.add_axes([(left + j * (w + gap)) / width, y / height, w / width, h / height])
            ax.imshow(to_uint8(picture), interpolation="none")
            ax.set_axis_off()
            if i == 0:
                last = highlight_last_column and j == len(row) - 1
                ax.set_title(column_labels[j], fontsize=8, color="C3" if last else "black")
    return fig


def channel_histograms(arrays, titles, *, channel_names=("R", "G", "B"), bins: int = 64,
                       colors=("tab:red", "tab:green", "tab:blue")):
    """Histogram of each colour channel, one panel per array; returns the figure.

    ``arrays`` are ``(H, W, 3)`` or ``(1, H, W, 3)``; ``channel_names`` label the last axis in
    order, e.g. ``("B", "G", "R")`` for a VGG19 input (give ``colors`` in the same order).
    """
    import matplotlib.pyplot as plt

    arrays = list(arrays)
    fig, axes = plt.subplots(1, len(arrays), figsize=(4.2 * len(arrays), 3), squeeze=False)
    for ax, arr, title in zip(axes.flat, arrays, titles):
        arr = np.asarray(arr, dtype=np.float32).reshape(-1, 3)
        for i, (name, color) in enumerate(zip(channel_names, colors)):
            ax.hist(arr[:, i], bins=bins, color=color, alpha=0.45, label=f"{name} mean {arr[:, i].mean():.1f}")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def layer_statistics(features: dict) -> list[dict]:
    """Per layer: mean and standard deviation of the activations and the fraction that are > 0.

    ``features`` maps layer names to ``(1, H, W, N)`` outputs (what a
    :class:`~styletransfer_utils.core.features.FeatureExtractor` returns).
    """
    rows = []
    for name, value in features.items():
        arr = np.asarray(value, dtype=np.float32)
        rows.append({"layer": paper_name(name), "mean": float(arr.mean()), "std": float(arr.std()),
                     "active": float((arr > 0).mean())})
    return rows


def plot_loss_curves(histories: dict, *, x: str = "seconds", y: str = "total", log: bool = True, ax=None):
    """Loss against time (or step) for several runs; ``histories`` maps a label to
    ``Result.history`` (or to the ``Result`` itself). Returns the figure."""
    import matplotlib.pyplot as plt

    histories = {label: getattr(h, "history", h) for label, h in histories.items()}
    for label, history in histories.items():
        missing = [k for k in (x, y) if history and k not in history[0]]
        if missing:
            raise SettingsError(f"the history of {label!r} has no {missing[0]!r}",
                                f"use one of: {', '.join(history[0])}")

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.6))
    else:
        fig = ax.figure
    for label, history in histories.items():
        ax.plot([h[x] for h in history], [h[y] for h in history], label=label, marker=".", markersize=3)
    ax.set_xlabel("seconds" if x == "seconds" else x)
    ax.set_ylabel(f"{y} loss")
    if log:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


__all__ = [
    "LayerInfo",
    "activation_overlay",
    "channel_histograms",
    "feature_map_grid",
    "feature_map_image",
    "pixel_grid",
    "format_table",
    "layer_statistics",
    "paper_name",
    "plot_loss_curves",
    "top_channels",
    "vgg19_layer_table",
]
