import numpy as np
import pytest

from styletransfer_utils.core.losses import content_loss, gram_matrix, layer_style_loss, style_loss, total_variation_loss


def _feats(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_gram_matrix_against_numpy():
    f = _feats((2, 5, 7, 4), 0)
    flat = f.reshape(2, 35, 4)
    expected = np.einsum("bmi,bmj->bij", flat, flat)
    np.testing.assert_allclose(gram_matrix(f, normalize=False).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(gram_matrix(f).numpy(), expected / 35, rtol=1e-5)


@pytest.mark.parametrize("normalize", [True, False])
def test_gram_matrix_gradient_is_f_times_the_symmetrised_upstream(normalize):
    """The Gram matrix has a gradient of its own (one product instead of autodiff's two): for a loss
    ``sum(U * G)`` it must be ``F (U + U^T)`` (over ``M`` when normalised), in a batch too."""
    import tensorflow as tf

    f = _feats((2, 3, 5, 4), 1)
    upstream = np.random.default_rng(2).normal(size=(2, 4, 4)).astype(np.float32)  # not symmetric
    x = tf.constant(f)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(gram_matrix(x, normalize=normalize) * upstream)
    flat = f.reshape(2, 15, 4)
    expected = (flat @ (upstream + upstream.transpose(0, 2, 1))).reshape(f.shape) / (15 if normalize else 1)
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_gram_matrix_in_bfloat16_is_float32_and_close():
    rng = np.random.default_rng(3)
    features = np.maximum(rng.normal(0, 1, (1, 24, 32, 64)), 0).astype(np.float32) * 10
    exact = np.asarray(gram_matrix(features))
    fast = gram_matrix(features, dtype="bfloat16")
    assert np.asarray(fast).dtype == np.float32 and fast.shape == exact.shape
    assert np.linalg.norm(np.asarray(fast) - exact) / np.linalg.norm(exact) < 0.01
    target = exact * 1.1  # near the target, where the Gram matrix's rounding counts tenfold in G - A
    # with bf16 units (AMX, AVX-512 bf16: oneDNN) the sums are float32's; TensorFlow's own kernels on
    # a CPU without them (AVX2 alone, where precision auto keeps float32) round more: 0.3% of G, 5.6%
    # of this loss on a 2-core AMD EPYC (bench/RESULTS.md, "A new style on a CPU without bf16")
    from styletransfer_utils.device import bf16_fast_on_cpu

    close = 0.02 if bf16_fast_on_cpu() else 0.08
    a = float(layer_style_loss(features, target))
    b = float(layer_style_loss(features, target, dtype="bfloat16"))
    assert b == pytest.approx(a, rel=close)
    import tensorflow as tf  # and the gradients, computed in bf16 too, point the same way

    x = tf.constant(features)
    grads = []
    for dtype in ("float32", "bfloat16"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = layer_style_loss(x, target, dtype=dtype)
        grads.append(tape.gradient(loss, x).numpy().ravel())
    assert np.linalg.norm(grads[1] - grads[0]) / np.linalg.norm(grads[0]) < close


def test_gram_of_tiny_tensor_by_hand():
    # one picture, 1x2 positions, 2 channels: F = [[1, 2], [3, 4]] (rows are positions)
    f = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], np.float32)
    # F^T F = [[1+9, 2+12], [2+12, 4+16]] = [[10, 14], [14, 20]]; divided by M = 2
    np.testing.assert_allclose(gram_matrix(f).numpy()[0], [[5.0, 7.0], [7.0, 10.0]])


def test_content_loss_by_hand():
    a = np.zeros((1, 1, 2, 2), np.float32)
    b = np.array([[[[1.0, 2.0], [0.0, 3.0]]]], np.float32)
    assert float(content_loss(a, b)) == pytest.approx((1 + 4 + 0 + 9) / 4)


def test_layer_style_loss_by_hand_and_paper_normalisation():
    f = np.array([[[[1.0, 2.0], [3.0, 4.0]]]], np.float32)
    target = np.zeros((1, 2, 2), np.float32)
    # G = [[5, 7], [7, 10]]; sum of squares = 25 + 49 + 49 + 100 = 223; N = 2 -> / (4 * 4)
    assert float(layer_style_loss(f, target)) == pytest.approx(223 / 16)
    # the paper's E_l = 1/(4 N^2 M^2) sum (F^T F - S^T S)^2 with unnormalised Grams
    g = np.array([[10.0, 14.0], [14.0, 20.0]])
    assert float(layer_style_loss(f, target)) == pytest.approx((g**2).sum() / (4 * 2**2 * 2**2))


def test_style_loss_is_weighted_sum():
    fa, fb = _feats((1, 4, 4, 3), 1), _feats((1, 2, 2, 5), 2)
    ta, tb = gram_matrix(_feats((1, 4, 4, 3), 3)), gram_matrix(_feats((1, 2, 2, 5), 4))
    la, lb = float(layer_style_loss(fa, ta)), float(layer_style_loss(fb, tb))
    total = style_loss({"a": fa, "b": fb}, {"a": ta, "b": tb}, {"a": 0.25, "b": 0.75})
    assert float(total) == pytest.approx(0.25 * la + 0.75 * lb, rel=1e-6)


def test_style_loss_zero_for_own_gram():
    f = _feats((1, 6, 6, 8), 5)
    assert float(layer_style_loss(f, gram_matrix(f))) == pytest.approx(0.0, abs=1e-9)


def test_total_variation_by_hand():
    img = np.array([[0.0, 1.0], [3.0, 5.0]], np.float32).reshape(1, 2, 2, 1)
    # down: (3-0)^2, (5-1)^2 -> mean 12.5; across: (1-0)^2, (5-3)^2 -> mean 2.5
    assert float(total_variation_loss(img)) == pytest.approx(15.0)
    assert float(total_variation_loss(np.ones((1, 8, 8, 3), np.float32))) == 0.0


# -- the Wasserstein-2 style loss (style_loss="w2") ---------------------------------------------

def _w2_targets(features):
    from styletransfer_utils.core.objective import Objective

    objective = Objective(1.0, 1.0, 0.0, (), {"x": 1.0}, style_loss="w2")
    return objective.prepare_targets(objective.style_targets({"x": features}))["x"]


def test_the_w2_loss_is_zero_for_identical_features():
    from styletransfer_utils.core.losses import wasserstein_style_loss

    features = np.random.default_rng(0).gamma(1.0, 1.0, size=(1, 9, 11, 6)).astype(np.float32)
    value = float(wasserstein_style_loss(features, *_w2_targets(features)))
    assert abs(value) < 1e-4 * float(np.mean(features**2)), value


def test_the_w2_loss_matches_numpy():
    from scipy.linalg import sqrtm

    from styletransfer_utils.core.losses import wasserstein_style_loss

    rng = np.random.default_rng(1)
    mine = rng.gamma(1.0, 1.0, size=(1, 10, 12, 5)).astype(np.float32)
    style = (rng.gamma(2.0, 0.5, size=(1, 8, 9, 5)) + np.linspace(0, 1, 5)).astype(np.float32)
    f, s = mine.reshape(-1, 5).astype(np.float64), style.reshape(-1, 5).astype(np.float64)
    mu_f, mu_s = f.mean(0), s.mean(0)
    cov_f, cov_s = np.cov(f, rowvar=False, bias=True), np.cov(s, rowvar=False, bias=True)
    root = sqrtm(cov_s).real
    expected = (np.sum((mu_f - mu_s) ** 2) + np.trace(cov_f) + np.trace(cov_s)
                - 2 * np.trace(sqrtm(root @ cov_f @ root).real)) / 5
    got = float(wasserstein_style_loss(mine, *_w2_targets(style)))
    assert np.isclose(got, expected, rtol=1e-3), (got, expected)


def test_the_w2_loss_has_a_finite_gradient_where_features_do_not_vary():
    import tensorflow as tf

    from styletransfer_utils.core.losses import wasserstein_style_loss

    style = np.random.default_rng(2).gamma(1.0, 1.0, size=(1, 6, 6, 4)).astype(np.float32)
    flat = tf.constant(np.zeros((1, 6, 6, 4), np.float32))  # ReLU features that are all zero
    with tf.GradientTape() as tape:
        tape.watch(flat)
        value = wasserstein_style_loss(flat, *_w2_targets(style))
    grad = tape.gradient(value, flat).numpy()
    assert np.isfinite(float(value)) and np.all(np.isfinite(grad))
