"""The multi-scale quality measure (styletransfer_utils.measure.quality)."""

import numpy as np
import pytest

from styletransfer_utils.measure import quality


def test_a_picture_scores_zero_against_itself(content_picture, style_picture, vgg_weights):
    s = quality.score(style_picture, content_picture, style_picture, sizes=(64, 32))
    assert s.style == pytest.approx(0.0, abs=1e-6) and set(s.style_by_size) == {64, 32}
    assert quality.content_error(content_picture, content_picture) == pytest.approx(0.0, abs=1e-6)


def test_style_errors_match_a_numpy_computation(content_picture, style_picture, vgg_weights):
    """Relative Frobenius error of G = F^T F / M, from the same features computed by hand."""
    from styletransfer_utils.core.images import preprocess, resize_to_long_side

    errors = quality.style_errors(content_picture, style_picture, 48)
    extractor = quality._extractor()

    def gram(picture, layer):
        f = np.asarray(extractor(preprocess(resize_to_long_side(picture, 48)))[layer], np.float64)[0]
        flat = f.reshape(-1, f.shape[-1])
        return flat.T @ flat / flat.shape[0]

    for layer in ("block1_conv1", "block3_conv1"):
        a, b = gram(content_picture, layer), gram(style_picture, layer)
        assert errors[layer] == pytest.approx(np.linalg.norm(a - b) / np.linalg.norm(b), rel=1e-4)
    assert set(errors) == set(quality.STYLE_LAYERS) and all(e > 0.05 for e in errors.values())


def test_a_noisier_copy_scores_worse_on_content(content_picture, style_picture, vgg_weights):
    rng = np.random.default_rng(0)
    slightly = np.clip(content_picture + rng.normal(0, 5, content_picture.shape), 0, 255)
    very = np.clip(content_picture + rng.normal(0, 60, content_picture.shape), 0, 255)
    assert 0 < quality.content_error(slightly, content_picture) < quality.content_error(very, content_picture)
