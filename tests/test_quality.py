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


def test_the_pasted_score_sees_a_paintings_face_pasted_into_the_photo(vgg_weights):
    """A portrait's face pasted into the photo scores high; the photo itself low (the style and
    content scores are blind to this: bench/RESULTS.md, "Paint the manner, not the objects")."""
    from conftest import SHARED_IMAGES
    from styletransfer_utils.core.images import load_image, resize, resize_to_long_side

    if not (SHARED_IMAGES / "picasso_selfport1907.jpg").is_file():
        pytest.skip("the shared pictures are not beside the repository")
    photo = resize_to_long_side(load_image(SHARED_IMAGES / "tubingen.jpg"), 512)
    painting = resize_to_long_side(load_image(SHARED_IMAGES / "picasso_selfport1907.jpg"), 512)
    h, w = painting.shape[:2]
    face = painting[h // 8: h // 8 + w // 2, w // 4: w // 4 + w // 2]  # the sitter's face, upper middle
    with_face = photo.copy()
    with_face[100:260, 60:220] = resize(face, (160, 160))
    plain, faced = quality.pasted(photo, painting), quality.pasted(with_face, painting)
    assert plain < 0.7 and faced > 0.8, (plain, faced)
    assert quality.pasted(painting, painting) == pytest.approx(1.0, abs=1e-3)
