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


def test_the_content_and_pasted_scores_look_at_the_sizes_they_are_given(content_picture, style_picture, vgg_weights):
    """The notebooks' smoke runs score at small sizes: ``content_size`` is the content score's size
    and ``pasted``'s ``size`` and ``style_sizes`` are its own; the defaults are the measure's."""
    rng = np.random.default_rng(1)
    noisy = np.clip(content_picture + rng.normal(0, 30, content_picture.shape), 0, 255)
    small = quality.score(noisy, content_picture, style_picture, sizes=(32,), content_size=64)
    assert small.content == pytest.approx(quality.content_error(noisy, content_picture, 64))
    assert small.content != pytest.approx(quality.score(noisy, content_picture, style_picture, sizes=(32,)).content)
    assert quality.content_error(noisy, content_picture) == quality.content_error(noisy, content_picture,
                                                                                  quality.CONTENT_SIZE)
    assert quality.pasted(style_picture, style_picture, size=64, style_sizes=(64,)) == pytest.approx(1.0, abs=1e-3)
    assert quality.pasted(noisy, style_picture, size=64, style_sizes=(48, 96)) < 0.99


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


def test_the_sliced_distance_is_zero_for_one_distribution_and_blind_to_the_order_of_positions():
    rng = np.random.default_rng(0)
    b = rng.normal(size=(300, 8)).astype(np.float32)
    directions = quality._measure_directions(8, 0)
    assert directions.shape == (8, 16) and np.allclose(np.linalg.norm(directions, axis=0), 1.0)
    assert quality.sliced_distance(b, b, directions) == pytest.approx(0.0, abs=1e-7)
    assert quality.sliced_distance(b[rng.permutation(300)], b, directions) == pytest.approx(0.0, abs=1e-7)
    # every sample twice: the same distribution at another count, compared at the smaller one's levels
    assert quality.sliced_distance(np.repeat(b, 2, axis=0), b, directions) == pytest.approx(0.0, abs=1e-6)


def test_the_sliced_distance_is_relative_to_the_paintings_size_and_sees_more_than_covariance():
    rng = np.random.default_rng(1)
    b = rng.normal(size=(2000, 4))
    directions = quality._measure_directions(4, 0)
    # twice every sample: each projection's W2^2 is E[(2y - y)^2] = E[y^2], so the relative distance is 1
    assert quality.sliced_distance(2 * b, b, directions) == pytest.approx(1.0, rel=1e-5)
    # one channel, same mean and variance, another shape (+-1 against a Gaussian): a Gram matrix cannot
    # tell them apart; the sliced distance is sqrt(2 - 2 sqrt(2 / pi)) = 0.64, up to sampling
    gaussian, signs = rng.normal(size=(20000, 1)), rng.choice([-1.0, 1.0], size=(20000, 1))
    assert np.mean(signs**2) == 1.0 and abs(np.mean(gaussian**2) - 1.0) < 0.03
    one = quality._measure_directions(1, 0)
    assert quality.sliced_distance(signs, gaussian, one) == pytest.approx(np.sqrt(2 - 2 * np.sqrt(2 / np.pi)), abs=0.03)
    assert quality.sliced_distance(rng.normal(size=(20000, 1)), gaussian, one) < 0.03


def test_the_sliced_score_is_zero_for_the_painting_and_lower_for_it_mirrored_than_for_the_photo(
        content_picture, style_picture, vgg_weights):
    sizes = (64, 32)
    assert quality.sliced_score(style_picture, style_picture, sizes=sizes) == pytest.approx(0.0, abs=1e-6)
    mirrored = quality.sliced_score(style_picture[:, ::-1].copy(), style_picture, sizes=sizes)
    assert 0 < mirrored < quality.sliced_score(content_picture, style_picture, sizes=sizes)
