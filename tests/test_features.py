import numpy as np
import pytest

from styletransfer_utils.core.features import (
    FeatureExtractor, LAYER_NAMES, build_vgg19, layer_channels, resolve_precision,
)
from styletransfer_utils.errors import SettingsError


def test_layer_table_matches_keras_vgg19():
    import keras

    model = keras.applications.VGG19(weights=None, include_top=False)
    keras_names = tuple(l.name for l in model.layers[1:])
    assert LAYER_NAMES == keras_names
    assert layer_channels("conv3_4") == 256


def test_network_is_cut_after_deepest_layer():
    model = build_vgg19("block3_conv1", weights=None)
    assert model.layers[-1].name == "block3_conv1"
    assert "block3_conv2" not in [l.name for l in model.layers]


def test_extractor_shapes_from_one_pass():
    fe = FeatureExtractor(["conv1_1", "relu2_1", "pool3", "block4_conv2"], weights=None)
    out = fe(np.zeros((1, 64, 96, 3), np.float32))
    assert list(out) == ["block1_conv1", "block2_conv1", "block3_pool", "block4_conv2"]
    assert out["block1_conv1"].shape == (1, 64, 96, 64)
    assert out["block2_conv1"].shape == (1, 32, 48, 128)
    assert out["block3_pool"].shape == (1, 8, 12, 256)
    assert out["block4_conv2"].shape == (1, 8, 12, 512)
    assert all(v.dtype.name == "float32" for v in out.values())


def test_average_pooling_swaps_layer_type():
    model = build_vgg19("block2_conv1", pooling="avg", weights=None)
    assert type(model.get_layer("block1_pool")).__name__ == "AveragePooling2D"
    with pytest.raises(SettingsError):
        build_vgg19("block2_conv1", pooling="median", weights=None)


def test_mixed_precision_outputs_float32():
    fe = FeatureExtractor(["conv2_1"], precision="mixed_bfloat16", weights=None)
    assert fe.model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert fe(np.zeros((1, 32, 32, 3), np.float32))["block2_conv1"].dtype.name == "float32"


def test_resolve_precision_auto_is_concrete():
    assert resolve_precision("auto") in ("float32", "mixed_bfloat16", "mixed_float16")
    assert resolve_precision("float32") == "float32"


def test_unknown_layer():
    with pytest.raises(SettingsError, match="unknown VGG19 layer 'conv6_1'"):
        FeatureExtractor(["conv6_1"], weights=None)


@pytest.mark.weights
def test_imagenet_features_equal_keras_vgg19(vgg_weights):
    import keras

    from styletransfer_utils.core.images import preprocess

    picture = np.random.default_rng(0).uniform(0, 255, (64, 80, 3)).astype(np.float32)
    x = preprocess(picture)
    ref = keras.applications.VGG19(weights="imagenet", include_top=False)
    names = ["block1_conv1", "block3_conv4", "block5_pool"]
    expected = keras.Model(ref.input, [ref.get_layer(n).output for n in names])(x)
    ours = FeatureExtractor(["conv1_1", "conv3_4", "pool5"])(x)
    for name, want in zip(names, expected):
        np.testing.assert_allclose(ours[name].numpy(), want.numpy(), rtol=1e-4, atol=1e-3)
    bf16 = FeatureExtractor(["conv3_4"], precision="mixed_bfloat16")(x)["block3_conv4"].numpy()
    rel = np.abs(bf16 - expected[1].numpy()).max() / np.abs(expected[1].numpy()).max()
    assert rel < 0.03
