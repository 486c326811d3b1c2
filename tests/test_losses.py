import numpy as np
import pytest

from styletransfer_utils.losses import content_loss, gram_matrix, layer_style_loss, style_loss, total_variation_loss


def _feats(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def test_gram_matrix_against_numpy():
    f = _feats((2, 5, 7, 4), 0)
    flat = f.reshape(2, 35, 4)
    expected = np.einsum("bmi,bmj->bij", flat, flat)
    np.testing.assert_allclose(gram_matrix(f, normalize=False).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(gram_matrix(f).numpy(), expected / 35, rtol=1e-5)


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
