import math

import pytest

from styletransfer_utils import Settings, SettingsError
from styletransfer_utils.core.features import resolve_layer_name
from styletransfer_utils.settings import TrainSettings, gatys_settings


def test_defaults_are_valid():
    s = Settings()
    assert s.content_layers == ("block4_conv2", "block5_conv2")
    assert sum(s.layer_weights().values()) == pytest.approx(1.0)
    assert sum(s.content_weights().values()) == pytest.approx(1.0)


def test_default_layer_weights_belong_to_the_default_layers():
    s = Settings()  # conv5_1 at 0.3 of the others; conv5_2 at half conv4_2's weight
    assert s.layer_weights()["block5_conv1"] == pytest.approx(0.3 * s.layer_weights()["block1_conv1"])
    assert s.content_weights() == pytest.approx({"block4_conv2": 2 / 3, "block5_conv2": 1 / 3})
    other = Settings(style_layers=("conv1_1", "conv2_1", "conv3_1"), content_layers=("conv4_2",))
    assert other.layer_weights() == pytest.approx({f"block{i}_conv1": 1 / 3 for i in (1, 2, 3)})
    assert other.content_weights() == {"block4_conv2": 1.0}
    # given weights win, and the defaults follow the layers through replace()
    assert Settings(style_layer_weights=(1, 1, 1, 1, 1)).layer_weights()["block5_conv1"] == pytest.approx(0.2)
    assert s.replace(content_layers=("conv4_2", "conv5_1")).content_weights() == {"block4_conv2": 0.5,
                                                                                 "block5_conv1": 0.5}
    paper = gatys_settings()  # a network's objective: the paper's layers, alike
    assert list(paper.layer_weights().values()) == pytest.approx([0.2] * 5)
    assert paper.content_weights() == {"block4_conv2": 1.0}
    # ... or weighted as given, and Gatys then optimises the same weights
    weighted = TrainSettings(content_layers=("conv4_2", "conv5_2"), content_layer_weights=(1, 0.5),
                             style_layer_weights=(1, 1, 1, 1, 0.3))
    assert gatys_settings(weighted).layer_weights() == pytest.approx(s.layer_weights())
    assert gatys_settings(weighted).content_weights() == pytest.approx(s.content_weights())
    with pytest.raises(SettingsError, match="2 style layer weights for 5"):
        TrainSettings(style_layer_weights=(1, 2))


def test_paper_layer_names_are_resolved():
    s = Settings(content_layers=("relu4_2",), style_layers=("conv1_1", "pool2", "block3_conv1"))
    assert s.content_layers == ("block4_conv2",)
    assert s.style_layers == ("block1_conv1", "block2_pool", "block3_conv1")
    assert resolve_layer_name(" CONV5_4 ") == "block5_conv4"


@pytest.mark.parametrize("changes, words", [
    ({"style_weight": -1.0}, "style_weight"),
    ({"content_weight": math.nan}, "content_weight"),
    ({"tv_weight": math.inf}, "tv_weight"),
    ({"style_layers": ("conv9_9",)}, "unknown VGG19 layer"),
    ({"content_layers": ("fc7",)}, "unknown VGG19 layer"),
    ({"size": 8}, "size"),
    ({"steps": 0}, "steps"),
    ({"optimizer": "sgd"}, "optimizer"),
    ({"precision": "int8"}, "precision"),
    ({"pooling": "min"}, "pooling"),
    ({"style_scale": 0.0}, "style_scale"),
    ({"style_scale": 100.0}, "style picture 51200 px"),
    ({"seed": -1}, "seed is -1"),
    ({"style_layer_weights": (1.0, 2.0)}, "style layer weights"),
    ({"style_layer_weights": (1, -1, 1, 1, 1)}, "style layer weight"),
    ({"content_layer_weights": (1.0,)}, "1 content layer weights for 2 content layers; give one weight per content layer"),
    ({"content_layer_weights": (0, 0)}, "all content layer weights are zero"),
    ({"content_layer_weights": (1, -1)}, "content layer weight"),
    ({"style_blend_weights": (0.0, 0.0)}, "blend"),
    ({"save_every": -2}, "save_every"),
    ({"init": ""}, "init"),
    ({"init": 3}, "init"),
    ({"style_loss": "bogus"}, "style_loss is 'bogus'; use one of: gram, meanstd, w2, histogram, sliced"),
    ({"style_loss": None}, "style_loss is None"),
    ({"average": 0.9}, "average 0.9 is for Adam's iterates and the optimizer is lbfgs; add --optimizer adam"),
    ({"average": 1.0, "optimizer": "adam"}, "average is 1.0; use a decay from 0 (off) to below 1"),
    ({"average": -0.5, "optimizer": "adam"}, "average is -0.5"),
    ({"average": True, "optimizer": "adam"}, "average is True"),
    ({"style_error": "l1"}, "style_error is 'l1'; use one of: squared, norm"),
    ({"style_error": "norm", "relative_losses": False}, "style_error norm with relative_losses off"),
    ({"style_error": "norm", "style_loss": "sliced"}, "style_error norm with style_loss sliced; norm is for Gram"),
    ({"style_error": "norm", "style_masks": ("mask.png",)}, "style_error norm with style masks; norm is for Gram"),
])
def test_bad_settings_are_one_line_errors(changes, words):
    with pytest.raises(SettingsError) as err:
        Settings(**changes)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_blend_weights_normalised_and_counted():
    s = Settings(style_blend_weights=(1.0, 3.0))
    assert s.blend_weights(2) == [0.25, 0.75]
    with pytest.raises(SettingsError, match="one blend weight per style"):
        s.blend_weights(3)


def test_replace_validates():
    with pytest.raises(SettingsError):
        Settings().replace(style_weight=-3)
    assert Settings().replace(steps=7).steps == 7
