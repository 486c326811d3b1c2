"""Figures and tables of notebooks 01, 02 and 04 (no network weights needed)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from styletransfer_utils import StyleTransferError
from styletransfer_utils.lessons import visualize
from styletransfer_utils.core.features import LAYER_NAMES


def test_paper_names():
    assert visualize.paper_name("block4_conv2") == "conv4_2"
    assert visualize.paper_name("block3_pool") == "pool3"
    assert visualize.paper_name("relu1_1") == "conv1_1"


def test_layer_table_shapes_receptive_fields_and_parameters():
    table = visualize.vgg19_layer_table(224, 224)
    assert [r.name for r in table] == list(LAYER_NAMES)
    rows = {r.paper_name: r for r in table}
    # known values for VGG: 3x3 convs with stride 1 grow the field by 2 x stride
    assert (rows["conv1_1"].receptive_field, rows["conv1_2"].receptive_field) == (3, 5)
    assert (rows["pool1"].receptive_field, rows["pool1"].stride) == (6, 2)
    assert rows["conv2_1"].receptive_field == 10
    assert (rows["pool5"].height, rows["pool5"].stride, rows["pool5"].receptive_field) == (7, 32, 268)
    assert (rows["conv4_2"].height, rows["conv4_2"].channels) == (28, 512)
    assert sum(r.parameters for r in table) == 20_024_384  # keras.applications.VGG19(include_top=False)
    odd = visualize.vgg19_layer_table(75, 101)
    assert (odd[-1].height, odd[-1].width) == (2, 3)


def test_format_table_aligns_columns():
    text = visualize.format_table([{"a": 1, "bb": 0.123456}, {"a": 10, "bb": 2.0}])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "bb"] and "0.123" in lines[2] and len(set(map(len, lines))) == 1
    assert visualize.format_table([]) == ""


def test_top_channels_and_feature_map_image():
    maps = np.zeros((1, 6, 5, 4), np.float32)
    maps[..., 2] = 3.0
    maps[0, 0, 0, 1] = 1.0
    assert visualize.top_channels(maps, 2) == [2, 1]
    img = visualize.feature_map_image(maps, 1)
    assert img.shape == (6, 5, 3) and img.dtype == np.uint8
    flat = visualize.feature_map_image(maps, 0).reshape(-1, 3)
    assert len(np.unique(flat, axis=0)) == 1  # a constant map: one colour, no division by zero
    with pytest.raises(StyleTransferError, match=r"channel 4 is outside this layer's 0..3"):
        visualize.feature_map_image(maps, 4)
    with pytest.raises(StyleTransferError, match="channel 9"):
        visualize.feature_map_grid(maps, [0, 9])
    with pytest.raises(StyleTransferError, match=r"feature maps of shape \(3,\)"):
        visualize.top_channels(np.zeros(3))


def test_figures_are_drawn():
    rng = np.random.default_rng(0)
    maps = rng.random((1, 8, 8, 20), dtype=np.float32)
    assert len(visualize.feature_map_grid(maps, columns=4).axes) == 16
    assert len(visualize.feature_map_grid(maps, [0, 1, 2], columns=3).axes) == 3
    assert len(visualize.channel_histograms([rng.random((4, 4, 3)) * 255] * 2, ["a", "b"]).axes) == 2
    history = [{"step": i + 1, "seconds": 0.1 * i, "total": 10.0 / (i + 1)} for i in range(5)]
    fig = visualize.plot_loss_curves({"x": history, "y": history}, x="step")
    assert len(fig.axes[0].lines) == 2
    result = type("Result", (), {"history": history})()  # a Result works as well as its history
    assert len(visualize.plot_loss_curves({"r": result}).axes[0].lines) == 1
    with pytest.raises(StyleTransferError, match="has no 'styl'; use one of: step, seconds, total"):
        visualize.plot_loss_curves({"x": history}, y="styl")


def test_layer_statistics():
    rows = visualize.layer_statistics({"block1_conv1": np.array([[[[0.0, 2.0]]]])})
    assert rows == [{"layer": "conv1_1", "mean": 1.0, "std": 1.0, "active": 0.5}]


def test_activation_overlay_marks_the_strongest_cells_over_the_picture():
    picture = np.full((64, 96, 3), 200.0, np.float32)
    maps = np.zeros((1, 4, 6, 3), np.float32)  # a stride of 16 px: one cell is 16 x 16 pixels
    maps[0, 1, 4, 2], maps[0, 3, 0, 2] = 5.0, 2.0  # channel 2 fires most at row 1, column 4
    fig = visualize.activation_overlay(picture, maps, [2, 0], top=2, columns=2)
    hot, quiet = fig.axes[:2]
    assert [p.get_xy() for p in hot.patches] == [(64.0, 16.0), (0.0, 48.0)]
    assert (hot.patches[0].get_width(), hot.patches[0].get_height()) == (16.0, 16.0)
    shown = hot.images[0].get_array()
    assert shown.shape == (64, 96, 3)
    assert shown[24, 72].mean() > 2 * shown[8, 8].mean()  # bright where it fires, dimmed elsewhere
    assert np.allclose(quiet.images[0].get_array(), 0.15 * 200 / 255)  # a silent channel: all dimmed,
    assert not quiet.patches  # and no cell marked
    assert len(visualize.activation_overlay(picture, maps).axes) == 4  # default: the 4 most active
    with pytest.raises(StyleTransferError, match="channel 7"):
        visualize.activation_overlay(picture, maps, [7])


def test_pixel_grid_draws_every_picture_at_its_own_pixel_size():
    red, blue = np.zeros((12, 20, 3), np.float32), np.zeros((12, 20, 3), np.float32)
    red[..., 0], blue[..., 2] = 255.0, 255.0
    fig = visualize.pixel_grid([[red, blue], [blue, red]], ["a", "b"], ["one", "two"],
                               highlight_last_column=True, dpi=50, left=10, top=8, gap=2)
    width, height = 10 + 2 * (20 + 2), 8 + 2 * (12 + 2)
    assert tuple(fig.get_size_inches() * 50) == pytest.approx((width, height))
    assert len(fig.axes) == 4
    for ax in fig.axes:  # each axes is exactly its picture's pixels, drawn without smoothing
        box = ax.get_position()
        assert (box.width * width, box.height * height) == pytest.approx((20, 12))
        assert ax.images[0].get_interpolation() == "none" and ax.images[0].get_array().dtype == np.uint8
    assert fig.axes[0].images[0].get_array()[0, 0].tolist() == [255, 0, 0]
    titles = [(ax.get_title(), ax.title.get_color()) for ax in fig.axes[:2]]
    assert titles == [("one", "black"), ("two", "C3")]  # only the top row is titled, the last column marked
    assert [t.get_text() for t in fig.texts] == ["a", "b"]
