"""The notebook widgets, driven headless: set a slider's ``.value``, click the button."""

import numpy as np
import pytest

from styletransfer_utils import Settings
from styletransfer_utils.lessons.widgets import feature_map_browser, png_bytes, style_transfer_sliders

pytestmark = pytest.mark.weights

TINY = Settings(size=64, steps=3, seed=0, precision="float32")


def test_png_bytes_is_a_png():
    data = png_bytes(np.full((4, 5, 3), 200.0, np.float32))
    assert data[:8] == b"\x89PNG\r\n\x1a\n"


def test_feature_map_browser_follows_its_sliders(vgg_weights, content_picture, tmp_path):
    browser = feature_map_browser(content_picture, layers=("conv1_1", "conv3_1"))
    assert browser.layer.options == ("conv1_1", "conv3_1")
    assert browser.channel.max == 63 and browser.current.shape == (48, 64, 3)
    first = bytes(browser.image.value)
    browser.channel.value = 5
    assert bytes(browser.image.value) != first and "channel 5 of 64" in browser.info.value
    browser.layer.value = "conv3_1"
    assert browser.channel.max == 255 and browser.current.shape == (12, 16, 3)
    browser.channel.value = 200
    browser.layer.value = "conv1_1"  # fewer channels: the channel slider is clamped
    assert browser.channel.value == 63 and browser.channel.max == 63
    fig = browser.figure()
    assert len(fig.axes) == 2
    # a picture file and one layer given as a plain string work too
    from styletransfer_utils.core.images import save_image

    path = save_image(tmp_path / "c.png", content_picture)
    assert feature_map_browser(path, layers="conv2_1").layer.options == ("conv2_1",)


def test_sliders_fill_settings_with_the_same_names(vgg_weights, content_picture, style_picture):
    panel = style_transfer_sliders(content_picture, style_picture, TINY, preview_size=48, preview_steps=2, live=False)
    assert set(panel.sliders) == {"content_weight", "style_weight", "tv_weight", "style_layer_weights", "size", "steps",
                                  "style_loss"}
    # the layer sliders start at the default weights (conv5_1 at 0.3), and an untouched panel keeps them
    assert [w.value for w in panel.sliders["style_layer_weights"]] == pytest.approx([1, 1, 1, 1, 0.3])
    assert panel.settings().layer_weights() == pytest.approx(TINY.layer_weights())
    panel.sliders["content_weight"].value = 2.0
    panel.sliders["style_weight"].value = 1e-2
    panel.sliders["tv_weight"].value = 1e-4
    panel.sliders["style_layer_weights"][4].value = 0.0
    panel.sliders["size"].value = 96
    panel.sliders["steps"].value = 7
    s = panel.settings()
    assert isinstance(s, Settings)
    assert (s.content_weight, s.size, s.steps) == (2.0, 96, 7)
    assert s.style_weight == pytest.approx(1e-2) and s.tv_weight == pytest.approx(1e-4)
    assert s.style_layer_weights == (1.0, 1.0, 1.0, 1.0, 0.0)
    assert s.style_layers == TINY.style_layers and s.seed == 0 and s.precision == "float32"
    assert panel.previews == 0  # live=False: nothing ran


def test_sliders_keep_base_weights_outside_their_usual_range(content_picture, style_picture):
    base = TINY.replace(style_weight=10.0, tv_weight=0.0)
    panel = style_transfer_sliders(content_picture, style_picture, base, live=False)
    s = panel.settings()
    assert s.style_weight == pytest.approx(10.0) and s.tv_weight == 0.0  # were clamped to 1.0 and 1e-6
    panel.sliders["tv_weight"].value = 1e-3  # moving the slider turns the term on
    assert panel.settings().tv_weight == pytest.approx(1e-3)


def test_defaults_draw_a_preview_and_slider_moves_update_it(vgg_weights, content_picture, style_picture):
    panel = style_transfer_sliders(content_picture, [style_picture], TINY, preview_size=48, preview_steps=2)
    assert panel.previews == 1 and panel.last_preview.image.shape == (36, 48, 3)
    assert panel.last_preview.settings.size == 48 and panel.last_preview.steps == 2
    first = panel.last_preview
    assert bytes(panel.preview_image.value)[:4] == b"\x89PNG"
    panel.sliders["style_weight"].value = 1e-1
    assert panel.previews == 2 and panel.last_preview.settings.style_weight == pytest.approx(1e-1)
    assert panel.last_preview is not first and panel.last_preview.history[0]["style"] > 0
    fig = panel.figure()
    assert len(fig.axes) == 1


def test_button_renders_at_the_chosen_size(vgg_weights, content_picture, style_picture):
    panel = style_transfer_sliders(content_picture, [style_picture], TINY, preview_size=48, preview_steps=2, live=False)
    panel.sliders["size"].value = 96
    panel.sliders["steps"].value = 4
    panel.render_button.click()
    assert panel.renders == 1 and panel.last_render.image.shape == (72, 96, 3)
    assert panel.last_render.steps == 4 and bytes(panel.render_image.value)[:4] == b"\x89PNG"
    assert not panel.render_button.disabled and "rendered 96x72" in panel.status.value


def test_the_style_loss_menu_offers_every_loss_and_repaints_the_preview(vgg_weights, content_picture, style_picture):
    from styletransfer_utils.settings import STYLE_LOSSES

    panel = style_transfer_sliders(content_picture, [style_picture], TINY, preview_size=48, preview_steps=2)
    menu = panel.sliders["style_loss"]
    assert tuple(menu.options) == STYLE_LOSSES and menu.value == "gram" and panel.previews == 1
    menu.value = "sliced"
    assert panel.previews == 2 and panel.last_preview.settings.style_loss == "sliced"
    assert panel.settings().style_loss == "sliced"


def test_bad_settings_show_an_error_instead_of_raising(vgg_weights, content_picture, style_picture):
    panel = style_transfer_sliders(content_picture, [style_picture], TINY, preview_size=48, preview_steps=2, live=False)
    for slider in panel.sliders["style_layer_weights"]:
        slider.value = 0.0
    assert panel.preview() is None
    assert "style layer weights are zero" in panel.error and "zero" in panel.status.value
    panel.sliders["style_layer_weights"][0].value = 1.0
    assert panel.preview() is not None and panel.error is None


def test_figure_before_anything_ran_explains(content_picture, style_picture):
    from styletransfer_utils.errors import StyleTransferError

    panel = style_transfer_sliders(content_picture, [style_picture], TINY, live=False)
    with pytest.raises(StyleTransferError, match="preview"):
        panel.figure()


def test_log_sliders_give_round_weights(content_picture, style_picture):
    panel = style_transfer_sliders(content_picture, style_picture, TINY.replace(style_weight=5e-4, tv_weight=3e-5),
                                   live=False)
    s = panel.settings()  # the slider holds 10**log10(5e-4) = 0.0004999999999999999
    assert (s.style_weight, s.tv_weight) == (0.0005, 3e-5) and "style_weight=0.0005," in repr(s)
    panel.sliders["style_weight"].value = 10**-2.75  # one step of the slider
    assert panel.settings().style_weight == 0.001778
