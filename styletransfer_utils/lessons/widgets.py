"""ipywidgets factories for the notebooks: a feature-map browser and style-transfer sliders.

Lessons: ``notebooks/02_vgg19_feature_maps.ipynb`` (:func:`feature_map_browser`) and
``notebooks/05_interactive_sliders.ipynb`` (:func:`style_transfer_sliders`).

Both return ipywidgets containers (``VBox`` subclasses) that a notebook displays. They keep
their pictures in ``ipywidgets.Image`` widgets and their state in plain attributes, so they
work without a browser: tests set a slider's ``.value`` or call ``button.click()`` and read
the attributes, and :meth:`figure` draws the current state as a matplotlib figure for
notebooks executed headless (CI, nbconvert), where widgets are not rendered.

The sliders are named after :class:`~styletransfer_utils.settings.Settings` fields
(``content_weight``, ``style_weight``, ``tv_weight``, ``size``, ``steps``; one slider per style
layer fills ``style_layer_weights``; a menu sets ``style_loss``, notebook 08's five losses), and
:meth:`StyleTransferSliders.settings` returns the filled ``Settings``.
"""

from __future__ import annotations

import io
import math

import ipywidgets as widgets
import numpy as np

from ..errors import StyleTransferError
from ..settings import STYLE_LOSSES, Settings


def png_bytes(image: np.ndarray) -> bytes:
    """An RGB float (``[0, 255]``) or uint8 array as PNG bytes for an ``ipywidgets.Image``."""
    from PIL import Image

    from ..core.images import to_uint8

    arr = image if image.dtype == np.uint8 else to_uint8(image)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Feature-map browser (notebook 02)


class FeatureMapBrowser(widgets.VBox):
    """A layer slider, a channel slider and the picture of that channel's feature map.

    Attributes: ``layer`` (SelectionSlider of paper layer names), ``channel`` (IntSlider),
    ``image`` (the map, an ``ipywidgets.Image``), ``features`` (layer -> array), ``current``
    (the shown map as an RGB uint8 array).
    """

    def __init__(self, picture: np.ndarray, layers, *, extractor=None, display_size: int = 256):
        from ..core.features import FeatureExtractor
        from ..core.images import preprocess
        from ..core.images import as_picture
        from .visualize import paper_name

        self.picture = as_picture(picture, 1024)  # a path or an RGB array, checked
        if isinstance(layers, str):
            layers = (layers,)
        extractor = extractor or FeatureExtractor(layers, precision="float32")
        feats = extractor(preprocess(self.picture))
        self.names = {paper_name(n): n for n in extractor.layers}
        self.features = {n: np.asarray(feats[n])[0] for n in extractor.layers}
        first = next(iter(self.names))
        self.layer = widgets.SelectionSlider(options=list(self.names), value=first, description="layer",
                                             continuous_update=False)
        self.channel = widgets.IntSlider(value=0, min=0, max=self._channels(first) - 1, description="channel",
                                         continuous_update=False)
        self.info = widgets.HTML()
        self.image = widgets.Image(format="png", width=display_size)
        self.layer.observe(self._on_layer, names="value")
        self.channel.observe(lambda change: self.redraw(), names="value")
        self.current: np.ndarray | None = None
        self.redraw()
        super().__init__([widgets.HBox([self.layer, self.channel]), self.info, self.image])

    def _channels(self, paper: str) -> int:
        return self.features[self.names[paper]].shape[-1]

    def _on_layer(self, change) -> None:
        channels = self._channels(change["new"])
        if self.channel.value >= channels:
            self.channel.value = channels - 1
        self.channel.max = channels - 1
        self.redraw()

    def redraw(self) -> None:
        """Show the map of the selected layer and channel."""
        from .visualize import feature_map_image

        maps = self.features[self.names[self.layer.value]]
        ch = self.channel.value
        self.current = feature_map_image(maps, ch)
        m = maps[..., ch]
        self.info.value = (f"<b>{self.layer.value}</b> ({self.names[self.layer.value]}), channel {ch} of "
                           f"{maps.shape[-1]}: {maps.shape[0]}x{maps.shape[1]} positions, "
                           f"max {m.max():.1f}, {100 * (m > 0).mean():.0f}% active")
        self.image.value = png_bytes(self.current)

    def figure(self):
        """The picture and the current map side by side, as a matplotlib figure (headless view)."""
        from ..core.images import show_grid

        return show_grid([self.picture, self.current], ["input", f"{self.layer.value}, channel {self.channel.value}"],
                         size=3.2)


def feature_map_browser(picture: np.ndarray, layers=("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"),
                        **kwargs) -> FeatureMapBrowser:
    """A :class:`FeatureMapBrowser` for ``picture`` (a path or an RGB array) over VGG19 ``layers``."""
    return FeatureMapBrowser(picture, layers, **kwargs)


# ---------------------------------------------------------------------------------------------
# Style-transfer sliders (notebook 05)

# Room for the longest label ("content weight", about 7.5em in a sans-serif font) with a margin for
# wider fonts: the default width (80 px) cut it to "content w...". The sliders grow by as much
# (from the default 300 px), so their tracks keep their length.
SLIDER_LOOK = {"style": {"description_width": "9em"}, "layout": {"width": "340px"}}


def _significant(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits (``0.0004999999999999999`` -> ``0.0005``)."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


class StyleTransferSliders(widgets.VBox):
    """Sliders for a Gatys run, a low-resolution live preview and a full-size render button.

    Moving a slider re-runs a quick preview (``preview_size`` pixels, ``preview_steps``
    evaluations) with the chosen weights; the button renders at the chosen ``size`` and
    ``steps``. Attributes: ``sliders`` (Settings field name -> widget, plus
    ``style_layer_weights`` -> list of per-layer sliders), ``render_button``,
    ``preview_image``/``render_image`` (``ipywidgets.Image``), ``status`` (HTML),
    ``last_preview``/``last_render`` (``Result`` objects), ``previews``/``renders`` (counts)
    and ``error`` (the last problem with the settings, or ``None``).
    """

    def __init__(self, content, styles, settings: Settings | None = None, *, preview_size: int = 96,
                 preview_steps: int = 10, live: bool = True, max_size: int = 1024, max_steps: int = 1000):
        base = (settings or Settings())
        self.base = base
        from ..core.images import one_or_many

        self.content, self.styles = content, one_or_many(styles)
        self.preview_size, self.preview_steps = preview_size, preview_steps
        self.live = live
        self.last_preview = self.last_render = None
        self.previews = self.renders = 0
        self.error: str | None = None

        self._off = set()  # weights the base settings turn off (0): a log slider has no 0, so they
        # stay 0 until their slider moves

        def log_slider(name, value, low, high, label):
            if value <= 0:
                self._off.add(name)
            exponent = math.log10(value) if value > 0 else low
            low, high = min(low, math.floor(exponent)), max(high, math.ceil(exponent))  # the base value fits
            slider = widgets.FloatLogSlider(value=10**exponent, base=10, min=low, max=high, step=0.25,
                                            description=label, continuous_update=False, readout_format=".1e",
                                            **SLIDER_LOOK)
            slider.observe(lambda _change: self._off.discard(name), names="value")
            return slider

        layer_weights = base.style_layer_weights
        if layer_weights is None:  # the default weights (conv5_1 at 0.3 of the others), the largest at 1
            normalised = list(base.layer_weights().values())
            layer_weights = tuple(w / max(normalised) for w in normalised)
        from .visualize import paper_name

        self.sliders = {
            "content_weight": widgets.FloatSlider(value=base.content_weight, min=0.0, max=max(5.0, base.content_weight),
                                                  step=0.1, description="content weight", continuous_update=False,
                                                  **SLIDER_LOOK),
            # relative losses are about 1, the paper's absolute ones about 1e5-1e10: other weights
            "style_weight": log_slider("style_weight", base.style_weight, *((-2, 3) if base.relative_losses else (-8, 0)),
                                       "style weight"),
            "tv_weight": log_slider("tv_weight", base.tv_weight, *((-8, -2) if base.relative_losses else (-6, -1)),
                                    "TV weight"),
            "style_layer_weights": [
                widgets.FloatSlider(value=w, min=0.0, max=max(2.0, w), step=0.1, description=paper_name(n),
                                    continuous_update=False, **SLIDER_LOOK)
                for n, w in zip(base.style_layers, layer_weights)
            ],
            "size": widgets.IntSlider(value=base.size, min=64, max=max(max_size, base.size), step=32,
                                      description="size", continuous_update=False, **SLIDER_LOOK),
            "steps": widgets.IntSlider(value=base.steps, min=1, max=max(max_steps, base.steps),
                                       description="steps", continuous_update=False, **SLIDER_LOOK),
            "style_loss": widgets.Dropdown(options=list(STYLE_LOSSES), value=base.style_loss, description="style loss",
                                           **SLIDER_LOOK),
        }
        for slider in self._preview_sliders():
            slider.observe(self._on_change, names="value")
        self.render_button = widgets.Button(description="render full size", button_style="primary", icon="paint-brush")
        self.render_button.on_click(lambda _button: self.render())
        self.status = widgets.HTML()
        self.preview_image = widgets.Image(format="png", width=256)
        self.render_image = widgets.Image(format="png", width=512)
        style_box = widgets.VBox([widgets.HTML("<b>style layer weights</b>"), *self.sliders["style_layer_weights"]])
        weighs = ("weights of the relative losses (each term divided by its target's size), not the paper's α/β"
                  if base.relative_losses else "weights of the paper's absolute losses: α, β and the TV weight")
        weight_box = widgets.VBox([widgets.HTML(f"<i>{weighs}</i>"), self.sliders["style_loss"],
                                   self.sliders["content_weight"], self.sliders["style_weight"],
                                   self.sliders["tv_weight"], style_box])
        render_box = widgets.VBox([self.sliders["size"], self.sliders["steps"], self.render_button])
        super().__init__([
            widgets.HBox([weight_box, render_box]),
            self.status,
            widgets.HBox([widgets.VBox([widgets.HTML("preview"), self.preview_image]),
                          widgets.VBox([widgets.HTML("full size"), self.render_image])]),
        ])
        if live:
            self.preview()

    def _preview_sliders(self):
        s = self.sliders
        return [s["style_loss"], s["content_weight"], s["style_weight"], s["tv_weight"], *s["style_layer_weights"]]

    def _on_change(self, _change) -> None:
        if self.live:
            self.preview()

    def settings(self, **changes) -> Settings:
        """The slider values as a validated :class:`Settings` (other fields from the base settings)."""
        s = self.sliders
        values = dict(
            content_weight=float(s["content_weight"].value),
            # a log slider holds 10**exponent (5e-4 comes back as 0.0004999999999999999): round it
            style_weight=0.0 if "style_weight" in self._off else _significant(s["style_weight"].value),
            tv_weight=0.0 if "tv_weight" in self._off else _significant(s["tv_weight"].value),
            style_layer_weights=tuple(float(w.value) for w in s["style_layer_weights"]),
            size=int(s["size"].value),
            steps=int(s["steps"].value),
            style_loss=str(s["style_loss"].value),
        )
        return self.base.replace(**{**values, **changes})

    def _run(self, **changes):
        from ..gatys.run import stylize

        try:
            settings = self.settings(**changes)
            result = stylize(self.content, self.styles, settings)
        except StyleTransferError as exc:
            self.error = str(exc)
            self.status.value = f"<span style='color:#b00'>{self.error}</span>"
            return None
        self.error = None
        return result

    def preview(self):
        """Run the quick low-resolution preview with the current weights; returns its Result."""
        result = self._run(size=self.preview_size, steps=self.preview_steps)
        if result is not None:
            self.previews += 1
            self.last_preview = result
            self.preview_image.value = png_bytes(result.image)
            self.status.value = (f"preview {self.previews}: {self.preview_size} px, {result.steps} steps in "
                                 f"{result.seconds:.1f} s, loss {result.losses['total']:.3g}")
        return result

    def render(self):
        """Render at the chosen size and steps; returns its Result (also in ``last_render``)."""
        self.render_button.disabled = True
        self.status.value = f"rendering {self.sliders['size'].value} px, {self.sliders['steps'].value} steps..."
        try:
            result = self._run()
        finally:
            self.render_button.disabled = False
        if result is not None:
            self.renders += 1
            self.last_render = result
            self.render_image.value = png_bytes(result.image)
            h, w = result.image.shape[:2]
            self.status.value = f"rendered {w}x{h} in {result.seconds:.1f} s, loss {result.losses['total']:.3g}"
        return result

    def figure(self):
        """The latest preview (and render, if any) as a matplotlib figure, for headless runs."""
        from ..core.images import show_grid

        pictures, titles = [], []
        if self.last_preview is not None:
            pictures.append(self.last_preview.image)
            titles.append(f"preview ({self.preview_size} px)")
        if self.last_render is not None:
            pictures.append(self.last_render.image)
            titles.append(f"render ({self.last_render.settings.size} px)")
        if not pictures:
            raise StyleTransferError("nothing drawn yet", "call preview() or render() first")
        return show_grid(pictures, titles, size=3.5)


def style_transfer_sliders(content, styles, settings: Settings | None = None, **kwargs) -> StyleTransferSliders:
    """A :class:`StyleTransferSliders` panel for ``content`` and ``styles`` (paths or RGB arrays)."""
    return StyleTransferSliders(content, styles, settings, **kwargs)


__all__ = [
    "FeatureMapBrowser",
    "StyleTransferSliders",
    "feature_map_browser",
    "png_bytes",
    "style_transfer_sliders",
]
