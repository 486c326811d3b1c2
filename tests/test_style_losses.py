"""The style losses besides Gram (``Settings.style_loss``): values by hand, gradients, invariances,
bf16, masks, blends and relative sizes; and a tiny run with each."""

import numpy as np
import pytest

from styletransfer_utils.core.objective import Objective
from styletransfer_utils.core.style_targets import layer_loss, target_size
from styletransfer_utils.settings import STYLE_LOSSES

LOSSES = ("meanstd", "w2", "histogram", "sliced")


def _features(shape, seed, shift=0.0):
    """ReLU-like features: non-negative, channels of different spreads."""
    rng = np.random.default_rng(seed)
    return (rng.gamma(1.5, 1.0, size=shape) * np.linspace(0.5, 1.5, shape[-1]) + shift).astype(np.float32)


def _objective(loss, seed=0):
    return Objective(0.0, 1.0, 0.0, (), {"x": 1.0}, style_loss=loss, projection_seed=seed)


def _targets(loss, *styles, weights=None, seed=0):
    """The prepared targets of ``styles`` (blended by ``weights``, equal by default) at layer "x"."""
    objective = _objective(loss, seed)
    weights = weights or [1.0 / len(styles)] * len(styles)
    blend = None
    for weight, style in zip(weights, styles):
        summary = objective.style_targets({"x": style}, weight)["x"]
        blend = summary if blend is None else blend + summary
    return objective.prepare_targets({"x": blend})["x"]


def _loss(features, target, mask=None):
    return float(layer_loss(features, target, mask))


# -- NumPy references ----------------------------------------------------------------------------

def _resampled(sorted_target, count):
    """A sorted column of K values (at levels (k + 1/2)/K) read at ``count`` even levels."""
    k = len(sorted_target)
    return np.interp((np.arange(count) + 0.5) / count, (np.arange(k) + 0.5) / k, sorted_target)


def _sorted_distance(values, target_values):
    """Mean over columns of the mean squared difference of sorted values (1-D W2^2)."""
    return float(np.mean([np.mean((np.sort(values[:, j]) - _resampled(np.sort(target_values[:, j]), len(values))) ** 2)
                          for j in range(values.shape[1])]))


def _numpy_loss(loss, features, style, directions=None):
    f = features.reshape(-1, features.shape[-1]).astype(np.float64)
    s = style.reshape(-1, style.shape[-1]).astype(np.float64)
    if loss == "meanstd":
        sd = lambda x: np.sqrt(x.var(0) + 1e-8)  # noqa: E731
        return float(np.mean((f.mean(0) - s.mean(0)) ** 2 + (sd(f) - sd(s)) ** 2))
    if loss == "w2":
        from scipy.linalg import sqrtm

        cf, cs = np.cov(f, rowvar=False, bias=True), np.cov(s, rowvar=False, bias=True)
        root = sqrtm(cs).real
        return float((np.sum((f.mean(0) - s.mean(0)) ** 2) + np.trace(cf) + np.trace(cs)
                      - 2 * np.trace(sqrtm(root @ cf @ root).real)) / f.shape[1])
    if loss == "histogram":
        return _sorted_distance(f, s)
    return _sorted_distance(f @ directions, s @ directions)


@pytest.mark.parametrize("loss", LOSSES)
def test_each_loss_matches_numpy(loss):
    """Features and style of different sizes (the style's values are resampled to the picture's count)."""
    features, style = _features((1, 5, 6, 4), 1), _features((1, 7, 9, 4), 2, shift=0.5)
    target = _targets(loss, style)
    directions = getattr(target, "directions", None)
    assert _loss(features, target) == pytest.approx(_numpy_loss(loss, features, style, directions), rel=1e-4)


def test_mean_std_and_histogram_by_hand():
    # one channel, three positions: values 3, 1, 2 against a style of 10, 20, 30
    features = np.array([3.0, 1.0, 2.0], np.float32).reshape(1, 1, 3, 1)
    style = np.array([30.0, 10.0, 20.0], np.float32).reshape(1, 3, 1, 1)
    # means 2 and 20; standard deviations sqrt(2/3) and 10 sqrt(2/3): 18^2 + (9 sqrt(2/3))^2 = 324 + 54
    assert _loss(features, _targets("meanstd", style)) == pytest.approx(378.0, rel=1e-5)
    # sorted 1, 2, 3 against 10, 20, 30: (81 + 324 + 729) / 3
    assert _loss(features, _targets("histogram", style)) == pytest.approx(378.0, rel=1e-5)
    # the same against a style of six values 10, 10, 20, 20, 30, 30 (resampled to three)
    twice = np.repeat(style, 2, axis=0)
    assert _loss(features, _targets("histogram", twice)) == pytest.approx(378.0, rel=1e-5)


def test_the_histogram_loss_pulls_each_value_towards_its_remapped_value():
    """Risser et al.: ``||F - R(F)||^2 / (M N)``, ``R(F)`` the features histogram-matched to the style
    (each value replaced by the style's value of the same rank), outside the gradient."""
    import tensorflow as tf

    features, style = _features((1, 3, 4, 2), 17), _features((1, 3, 4, 2), 18, shift=2.0)
    flat, remapped = features.reshape(-1, 2).astype(np.float64), np.empty((12, 2))
    for j in range(2):
        remapped[np.argsort(flat[:, j]), j] = np.sort(style.reshape(-1, 2)[:, j])
    x = tf.constant(features)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = layer_loss(x, _targets("histogram", style))
    assert float(value) == pytest.approx(np.mean((flat - remapped) ** 2), rel=1e-5)
    expected = (2 * (flat - remapped) / flat.size).reshape(features.shape)
    np.testing.assert_allclose(tape.gradient(value, x).numpy(), expected, rtol=1e-4, atol=1e-7)


def test_sliced_directions_are_unit_vectors_fixed_by_the_seed():
    style = _features((1, 4, 4, 6), 3)
    a, b, c = (_targets("sliced", style, seed=s).directions for s in (7, 7, 8))
    assert a.shape == (6, 6) and np.allclose(np.linalg.norm(a, axis=0), 1.0, atol=1e-6)
    assert np.array_equal(a, b) and not np.allclose(a, c)


# -- gradients, invariances, precision -----------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_matches_central_differences(loss):
    import tensorflow as tf

    features, style = _features((1, 3, 4, 3), 4), _features((1, 4, 4, 3), 5, shift=1.0)
    target = _targets(loss, style)
    x = tf.constant(features)
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = layer_loss(x, target)
    grad = tape.gradient(value, x).numpy().ravel()
    eps, numeric = 1e-3, np.zeros(features.size)
    for i in range(features.size):
        step = np.zeros(features.size, np.float32)
        step[i] = eps
        plus, minus = (features.ravel() + step).reshape(features.shape), (features.ravel() - step).reshape(features.shape)
        numeric[i] = (_loss(plus, target) - _loss(minus, target)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=2e-2, atol=2e-2 * np.abs(numeric).max())


@pytest.mark.parametrize("loss", LOSSES)
def test_shuffling_positions_changes_nothing_but_mixing_channels_does(loss):
    features, style = _features((1, 6, 5, 4), 6), _features((1, 6, 6, 4), 7)
    target = _targets(loss, style)  # sliced: the same directions for both
    value = _loss(features, target)
    flat = features.reshape(-1, 4)
    shuffled = flat[np.random.default_rng(8).permutation(len(flat))].reshape(features.shape)
    assert _loss(shuffled, target) == pytest.approx(value, rel=1e-5)
    mixing = np.array([[1.0, 0.5, 0.0, 0.0], [0.0, 1.0, 0.5, 0.0], [0.0, 0.0, 1.0, 0.5], [0.5, 0.0, 0.0, 1.0]],
                      np.float32) / 1.5  # keeps the overall size, mixes each channel with a neighbour
    mixed = (flat @ mixing).reshape(features.shape)
    assert abs(_loss(mixed, target) - value) > 1e-3 * value


@pytest.mark.parametrize("loss", LOSSES)
def test_bfloat16_features_give_the_float32_loss_and_gradient(loss):
    import tensorflow as tf

    features, style = _features((1, 16, 16, 8), 9), _features((1, 16, 16, 8), 10, shift=0.5)
    target = _targets(loss, style)
    values, grads = [], []
    for dtype in ("float32", "bfloat16"):
        x = tf.constant(features, dtype)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = layer_loss(x, target)
        values.append(float(value))
        grads.append(tf.cast(tape.gradient(value, x), tf.float32).numpy().ravel())
    assert values[1] == pytest.approx(values[0], rel=0.02)
    assert np.linalg.norm(grads[1] - grads[0]) / np.linalg.norm(grads[0]) < 0.05


# -- masks, blends, relative sizes ---------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_a_mask_compares_its_region_only(loss):
    features, style = _features((1, 4, 6, 3), 11), _features((1, 5, 5, 3), 12)
    target = _targets(loss, style)
    assert _loss(features, target, np.ones((4, 6), np.float32)) == pytest.approx(_loss(features, target), rel=1e-5)
    left = np.zeros((4, 6), np.float32)
    left[:, :3] = 1.0
    assert _loss(features, target, left) == pytest.approx(_loss(features[:, :, :3], target), rel=1e-4)


@pytest.mark.parametrize("loss", LOSSES)
def test_a_blend_is_the_mixture_of_the_styles_features(loss):
    """50/50 of two styles of one size is one style made of both, side by side; a style blended
    with itself is that style (exactly where the picture has as many positions as the style:
    otherwise the resampled quantiles of its values and of their duplicates differ a little)."""
    a, b, features = _features((1, 4, 5, 3), 13), _features((1, 4, 5, 3), 14, shift=1.0), _features((1, 5, 4, 3), 15)
    both = np.concatenate([a, b], axis=2)
    assert _loss(features, _targets(loss, a, b)) == pytest.approx(_loss(features, _targets(loss, both)), rel=1e-4)
    assert _loss(features, _targets(loss, a, a)) == pytest.approx(_loss(features, _targets(loss, a)), rel=1e-4)


@pytest.mark.parametrize("loss", STYLE_LOSSES)
def test_relative_losses_are_one_at_zero_features(loss):
    """Each layer is divided by its loss at zero features (the size of its target), for every loss."""
    style = _features((1, 5, 5, 4), 16)
    objective = _objective(loss)
    targets = objective.prepare_targets(objective.style_targets({"x": style}))
    zero = np.zeros_like(style)
    if loss != "gram":
        assert _loss(zero, targets["x"]) == pytest.approx(target_size(targets["x"]), rel=1e-3)
    terms = objective.relative_to_style(targets).terms({"x": zero}, {}, targets, np.zeros((1, 4, 4, 3), np.float32))
    assert float(terms["style"]) == pytest.approx(1.0, rel=1e-3)


def test_the_settings_choose_the_loss_and_the_directions_seed():
    from styletransfer_utils.core.style_targets import LOSSES as CORE_LOSSES
    from styletransfer_utils.errors import SettingsError
    from styletransfer_utils.settings import Settings

    assert STYLE_LOSSES == ("gram",) + CORE_LOSSES == ("gram",) + LOSSES
    with pytest.raises(SettingsError, match="style_loss is 'slice'; use one of: gram, meanstd"):
        Objective(0.0, 1.0, 0.0, style_loss="slice")

    assert Objective.from_settings(Settings()).style_loss == "gram"
    sliced = Objective.from_settings(Settings(style_loss="sliced", seed=5))
    assert (sliced.style_loss, sliced.projection_seed) == ("sliced", 5)
    assert Objective.from_settings(Settings(style_loss="sliced")).projection_seed == 0


# -- a run with each loss ------------------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_a_tiny_run_lowers_each_loss(loss, content_picture, style_picture, vgg_weights):
    """With two styles in regions (masks), the default L-BFGS and the coarse-to-fine schedule (VGG19
    up to conv3, so that it stays quick)."""
    from styletransfer_utils import stylize

    left = np.zeros(content_picture.shape[:2], np.float32)
    left[:, : left.shape[1] // 2] = 1.0
    result = stylize(content_picture, [style_picture, style_picture[::-1, :, ::-1]], size=64, sizes=(48, 64),
                     steps=8, precision="float32", style_loss=loss, style_masks=(left, 1.0 - left), seed=0,
                     content_layers=("conv3_2",), style_layers=("conv1_1", "conv2_1", "conv3_1"))
    style = [h["style"] for h in result.history]
    assert all(np.isfinite(style)) and min(style[-4:]) < 0.9 * style[0], style
    assert result.image.shape == content_picture.shape


_JAX_CHILD = r"""
import json, sys
class NoTensorFlow:  # as on a GPU machine without TensorFlow
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("TensorFlow is blocked in this test")
sys.meta_path.insert(0, NoTensorFlow())
import jax
import numpy as np
from styletransfer_utils.core.objective import Objective
from styletransfer_utils.core.style_targets import layer_loss
data = np.load(sys.argv[1])
found = {}
for loss in ("meanstd", "w2", "histogram", "sliced"):
    objective = Objective(0.0, 1.0, 0.0, (), {"x": 1.0}, style_loss=loss, projection_seed=0)
    target = objective.prepare_targets(objective.style_targets({"x": data["style"]}))["x"]
    for mask in (None, data["mask"]):
        value, grad = jax.value_and_grad(lambda f: layer_loss(f, target, mask))(data["features"])
        found[f"{loss} {mask is None}"] = [float(value)] + np.asarray(grad).ravel().tolist()
print(json.dumps({"tensorflow": "tensorflow" in sys.modules, "found": found}))
"""


@pytest.mark.slow
def test_each_loss_runs_on_jax_without_tensorflow_as_on_tensorflow(tmp_path):
    """``keras.ops`` only: the same values and gradients under JAX, with and without a mask."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import tensorflow as tf

    pytest.importorskip("jax", reason="JAX is a development dependency (pip install -e '.[dev]')")
    features, style = _features((1, 4, 5, 3), 19), _features((1, 5, 5, 3), 20, shift=0.5)
    mask = np.zeros((4, 5), np.float32)
    mask[1:, 2:] = 0.8
    np.savez(tmp_path / "case.npz", features=features, style=style, mask=mask)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(root)}
    run = subprocess.run([sys.executable, "-c", _JAX_CHILD, str(tmp_path / "case.npz")], capture_output=True,
                         text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert not got["tensorflow"]
    for loss in LOSSES:
        target = _targets(loss, style)
        for each in (None, mask):
            x = tf.constant(features)
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = layer_loss(x, target, each)
            expected = [float(value)] + tape.gradient(value, x).numpy().ravel().tolist()
            np.testing.assert_allclose(got["found"][f"{loss} {each is None}"], expected, rtol=1e-4, atol=1e-6,
                                       err_msg=f"{loss}, mask: {each is not None}")
