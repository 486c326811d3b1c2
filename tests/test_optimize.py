"""End-to-end Gatys runs with the real weights, at tiny sizes."""

import numpy as np
import pytest

from styletransfer_utils import Settings
from styletransfer_utils.gatys import SaveEvery, StyleTransfer, stylize

pytestmark = pytest.mark.weights

# the paper's absolute losses with pinned weights (the relative default has weights of another scale);
# 64 px is a schedule of one size
TINY = dict(size=64, style_weight=1e-3, tv_weight=1e-3, precision="float32", relative_losses=False)


def test_style_loss_falls_tenfold_content_bounded(vgg_weights):
    from styletransfer_utils.data import generated_style, shipped_content
    from styletransfer_utils.core.images import preprocess, resize

    content, style = shipped_content("chelsea"), generated_style(128)
    # weights pinned (not the defaults, which are tuned for 512 px pictures) so the bound below
    # keeps its meaning when the defaults change
    settings = Settings(size=96, steps=60, precision="float32", style_weight=1e-4, tv_weight=1e-3,
                        relative_losses=False)
    transfer = StyleTransfer(content, [style], settings)
    result = transfer.run()
    first, best = result.history[0], result.losses
    assert result.steps == 60 and not result.interrupted
    assert best["style"] < first["style"] / 10
    # the content loss grows from zero but stays well below that of pictures unrelated to the
    # content: the style picture itself, and white noise
    unrelated = float(transfer.value_and_grad(preprocess(resize(style, transfer.content.shape[:2])))[0][1])
    noise = float(transfer.value_and_grad(transfer.initial_input("noise"))[0][1])
    assert 0 < best["content"] < 0.6 * min(unrelated, noise)
    assert result.image.shape == (64, 96, 3) and 0 <= result.image.min() and result.image.max() <= 255


def test_adam_and_bf16_also_reduce_the_loss(vgg_weights, content_picture, style_picture):
    result = stylize(content_picture, style_picture, steps=30, optimizer="adam", learning_rate=5.0,
                     **{**TINY, "precision": "mixed_bfloat16"})
    assert result.losses["total"] < result.history[0]["total"] / 2


def test_adams_average_takes_each_sizes_last_evaluation_and_is_the_picture(vgg_weights, content_picture,
                                                                          style_picture):
    """``average``: the same Adam iterates, and each size's last evaluation scores the moving average
    of them instead; the average is the size's picture, whatever its loss."""
    run = dict(size=64, sizes=(48, 64), size_steps=(5, 5), optimizer="adam", learning_rate=4.0, precision="float32",
               seed=0)
    plain, averaged = stylize(content_picture, style_picture, **run), stylize(content_picture, style_picture,
                                                                                average=0.8, **run)
    totals = [[h["total"] for h in r.history] for r in (plain, averaged)]
    assert len(totals[0]) == len(totals[1]) == 10 and averaged.sizes == [(48, 5), (64, 5)]
    assert np.allclose(totals[0][:4], totals[1][:4], rtol=1e-5) and totals[0][4] != pytest.approx(totals[1][4], rel=1e-4)
    assert averaged.losses["total"] == totals[1][-1]
    assert not np.allclose(plain.image, averaged.image, atol=1.0)


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_lbfgs_moves_at_the_default_relative_losses_in_both_precisions(vgg_weights, content_picture, style_picture,
                                                                       precision):
    """The relative losses' gradients are about 1e-5 per pixel, a step that bfloat16 (VGG19's input
    rounded to 0.5 levels) does not see: with SciPy's L-BFGS-B, whose first step was the gradient
    itself, every evaluation of a bf16 run returned the starting loss and the picture never changed."""
    result = stylize(content_picture, style_picture, size=64, sizes=(64,), steps=20, precision=precision)
    totals = [h["total"] for h in result.history]
    assert len(set(np.round(totals, 6))) > 10  # the loss changes from evaluation to evaluation
    assert result.losses["total"] < totals[0] / 2
    transfer = StyleTransfer(content_picture, [style_picture], Settings(size=64, sizes=(64,), precision=precision))
    assert transfer.objective.gram_dtype == ("bfloat16" if precision == "mixed_bfloat16" else "float32")


def _quadratic(target, weights, seen):
    """``x -> (sum w (x - target)^2 / 2, w (x - target))``, noting each ``x`` in ``seen``."""
    def fun(x):
        seen.append(x.copy())
        diff = x - target
        return float(np.sum(weights * diff * diff) / 2), (weights * diff).astype(np.float32)
    return fun


def test_lbfgs_first_step_moves_pixels_by_about_a_level_whatever_the_gradients_size():
    from styletransfer_utils.gatys import lbfgs

    for tiny in (1e-5, 1e3):
        seen = []
        fun = _quadratic(np.full((4, 4, 3), 50.0, np.float32), np.full((4, 4, 3), tiny, np.float32), seen)
        lbfgs.minimize(fun, np.zeros((4, 4, 3), np.float32), np.full((4, 4, 3), -100.0), np.full((4, 4, 3), 100.0),
                       max_evals=2)
        assert len(seen) == 2  # the budget, exactly
        assert np.mean(np.abs(seen[1] - seen[0])) == pytest.approx(lbfgs.FIRST_STEP, rel=1e-5)


def test_lbfgs_finds_a_box_constrained_minimum_of_an_ill_conditioned_quadratic():
    from styletransfer_utils.gatys import lbfgs

    rng = np.random.default_rng(0)
    target = rng.uniform(-150, 150, (6, 5, 3)).astype(np.float32)
    weights = rng.uniform(0.1, 10.0, target.shape).astype(np.float32)  # curvatures 100x apart
    low, high = np.full(target.shape, -100.0, np.float32), np.full(target.shape, 100.0, np.float32)
    seen = []
    out = lbfgs.minimize(_quadratic(target, weights, seen), np.zeros(target.shape, np.float32), low, high, max_evals=200)
    assert len(seen) <= 200  # it stops once no step changes anything
    best = min(seen, key=lambda x: float(np.sum(weights * (x - target) ** 2)))
    assert all(np.all((x >= low) & (x <= high)) for x in seen)  # every evaluation inside the box
    np.testing.assert_allclose(best, np.clip(target, low, high), atol=0.25)  # within a quarter of a level
    np.testing.assert_array_equal(out, best)  # it returns the best point it saw


def test_lbfgs_stops_at_a_loss_that_is_not_finite():
    from styletransfer_utils.gatys import lbfgs

    seen, values = [], iter([1.0, 0.5, float("nan"), 0.1])
    def fun(x):
        seen.append(x.copy())
        return next(values), np.ones_like(x)
    out = lbfgs.minimize(fun, np.zeros(4, np.float32), np.full(4, -10.0), np.full(4, 10.0), max_evals=100)
    assert len(seen) == 3  # nothing after the NaN is evaluated
    np.testing.assert_array_equal(out, seen[1])  # the best finite point


def test_lbfgs_takes_back_a_step_that_raises_the_loss_and_stops_when_nothing_moves():
    from styletransfer_utils.gatys import lbfgs

    seen, values = [], iter([1.0, 5.0, 0.5])
    def fun(x):  # the first step makes things worse; the shorter one from the start is better
        seen.append(x.copy())
        return next(values, 0.5), np.ones_like(x) if len(seen) < 3 else np.zeros_like(x)
    out = lbfgs.minimize(fun, np.zeros(4, np.float32), np.full(4, -10.0), np.full(4, 10.0), max_evals=100)
    assert len(seen) == 3  # the start, the rejected step, the half-length one; then a zero gradient: done
    np.testing.assert_allclose(seen[1], -lbfgs.FIRST_STEP)
    np.testing.assert_allclose(seen[2], -lbfgs.FIRST_STEP / 2)
    np.testing.assert_allclose(out, seen[2])


@pytest.mark.parametrize("window, fourth", [(2, -3.0), (1, -1.5)])
def test_lbfgs_keeps_a_step_below_the_highest_of_the_last_window_and_returns_the_best_point(window, fourth):
    from styletransfer_utils.gatys import lbfgs

    seen, values = [], iter([1.0, 0.5, 0.8])  # then 9.0: every later step is taken back
    def fun(x):  # a constant gradient: each kept step is a gradient step as long as the one before
        seen.append(float(x[0]))
        return next(values, 9.0), np.ones_like(x)
    out = lbfgs.minimize(fun, np.zeros(4, np.float32), np.full(4, -10.0), np.full(4, 10.0), window=window,
                         max_evals=100)
    assert seen[:3] == [0.0, -1.0, -2.0]
    # 0.8 is above the last value (0.5) but not above the start (1.0): kept with a window of 2, so the
    # next step goes on from -2; taken back with a window of 1, so a half step goes from -1
    assert seen[3] == fourth
    np.testing.assert_allclose(out, -1.0)  # the best point, not the last one kept


def test_exact_step_budget_and_history(vgg_weights, content_picture, style_picture):
    seen = []
    result = stylize(content_picture, [style_picture], steps=7, callbacks=[lambda p: seen.append(p.step)], **TINY)
    assert seen == list(range(1, 8)) and len(result.history) == 7
    assert set(result.history[0]) == {"step", "seconds", "size", "total", "content", "style", "tv"}


def test_ctrl_c_keeps_best_picture(vgg_weights, content_picture, style_picture):
    def interrupt(progress):
        if progress.step == 5:
            raise KeyboardInterrupt

    result = stylize(content_picture, [style_picture], steps=50, callbacks=[interrupt], **TINY)
    assert result.interrupted and result.steps == 5
    assert result.losses["total"] == min(h["total"] for h in result.history)


def test_noise_init_is_repeatable_with_seed(vgg_weights, content_picture, style_picture):
    a = stylize(content_picture, [style_picture], steps=3, init="noise", seed=3, **TINY)
    b = stylize(content_picture, [style_picture], steps=3, init="noise", seed=3, **TINY)
    c = stylize(content_picture, [style_picture], steps=3, init="noise", seed=4, **TINY)
    np.testing.assert_allclose(a.image, b.image, atol=1e-3)
    assert np.abs(a.image - c.image).mean() > 1


def test_blend_of_two_styles_is_weighted_gram(vgg_weights, content_picture, style_picture):
    other = 255 - style_picture
    s = Settings(**TINY, style_blend_weights=(3.0, 1.0))
    mixed = StyleTransfer(content_picture, [style_picture, other], s)
    one = StyleTransfer(content_picture, [style_picture], Settings(**TINY))
    two = StyleTransfer(content_picture, [other], Settings(**TINY))
    for name in mixed.style_targets:
        want = 0.75 * one.style_targets[name] + 0.25 * two.style_targets[name]
        np.testing.assert_allclose(mixed.style_targets[name], want, rtol=1e-4, atol=1e-2)


def test_style_scale_resizes_style_relative_to_output(vgg_weights, content_picture, style_picture):
    t = StyleTransfer(content_picture, [style_picture], Settings(**TINY, style_scale=0.5))
    assert t.style_size() == 32


def test_save_every_writes_intermediate_pictures(vgg_weights, tmp_path, content_picture, style_picture):
    stylize(content_picture, [style_picture], steps=6, callbacks=[SaveEvery(3, tmp_path / "s{step:02d}.png")], **TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s03.png", "s06.png"]


def test_texture_synthesis_without_content(vgg_weights, content_picture, style_picture):
    result = stylize(content_picture, [style_picture], steps=20, init="noise", seed=0,
                     **{**TINY, "content_weight": 0.0})
    assert result.losses["content"] == 0.0 and result.losses["style"] < result.history[0]["style"] / 5


def test_divergence_stops_and_keeps_best(vgg_weights, content_picture, style_picture):
    transfer = StyleTransfer(content_picture, [style_picture], Settings(**TINY, steps=40))
    real, calls = transfer._value_and_grad, []

    def breaks_on_fourth(x, scale):
        calls.append(1)
        terms, grad = real(x, scale)
        return (terms * float("nan") if len(calls) >= 4 else terms), grad

    transfer._value_and_grad = breaks_on_fourth
    result = transfer.run()
    assert result.diverged and result.steps == 4 and not result.interrupted
    assert np.isfinite(result.image).all() and np.isfinite(result.losses["total"])


def test_float16_gradients_do_not_overflow_at_the_default_weights(vgg_weights, content_picture, style_picture):
    # a loss scale of 1024 made every float16 gradient infinite at the default weights (loss ~1e7)
    transfer = StyleTransfer(content_picture, [style_picture], Settings(size=64, steps=4, precision="mixed_float16"))
    result = transfer.run()
    assert not result.diverged and result.losses["total"] < result.history[0]["total"]
    # an overflowing scale is lowered until the gradient is finite, and stays lowered
    transfer.loss_scale = 2.0**30
    terms, grad = transfer.value_and_grad(transfer.initial_input())
    assert np.isfinite(grad.numpy()).all() and transfer.loss_scale < 2.0**30
    reference = StyleTransfer(content_picture, [style_picture], Settings(size=64, precision="float32"))
    _, grad32 = reference.value_and_grad(reference.initial_input())
    cosine = float(np.sum(grad * grad32) / np.linalg.norm(grad) / np.linalg.norm(grad32))
    assert cosine > 0.99, cosine


def test_api_slips_are_one_line_errors(vgg_weights, content_picture, style_picture):
    from styletransfer_utils.errors import SettingsError

    with pytest.raises(SettingsError, match="as if scaled to 0-1"):  # would have given a black picture
        stylize(content_picture / 255.0, [style_picture], **TINY, steps=1)
    with pytest.raises(SettingsError, match="has no setting 'style_wieght'; did you mean 'style_weight'"):
        stylize(content_picture, [style_picture], style_wieght=1.0)
    with pytest.raises(SettingsError, match="settings is a dict"):
        stylize(content_picture, [style_picture], {"size": 64})
    with pytest.raises(SettingsError, match=r"give a tuple of layer names, e.g. \('conv1_1',\)"):
        Settings(style_layers="conv1_1")
    with pytest.raises(SettingsError, match="style_layer_weights is 0.5; give a tuple"):
        Settings(style_layer_weights=0.5)
    wide = np.full((20, 400, 3), 128.0, np.float32)  # 64 px wide -> 3 px high
    with pytest.raises(SettingsError, match="needs a short side of at least 16"):
        stylize(wide, [style_picture], **TINY, steps=1)
    assert Settings(size=np.int64(64), style_weight=np.float32(1e-3)).size == 64


def test_one_style_need_not_be_in_a_list_and_init_may_be_an_array(vgg_weights, content_picture, style_picture, tmp_path):
    from PIL import Image

    style = Image.fromarray(style_picture.astype(np.uint8))
    start = np.full_like(content_picture, 128.0)
    result = stylize(content_picture, style, **TINY, steps=2, init=start,
                     callbacks=[SaveEvery(1, str(tmp_path / "step_%02d.png"))])
    assert result.steps == 2 and (tmp_path / "step_01.png").is_file() and (tmp_path / "step_02.png").is_file()


def test_save_every_in_python_asks_for_a_callback(content_picture, style_picture):
    from styletransfer_utils.errors import SettingsError

    with pytest.raises(SettingsError, match=r"no file name to save to; pass callbacks=\[SaveEvery"):
        stylize(content_picture, [style_picture], **TINY, save_every=1)


@pytest.mark.parametrize("style_loss", ["gram", "sliced"])
def test_runs_leave_nothing_registered_behind(vgg_weights, content_picture, style_picture, style_loss):
    # a custom gradient traced under tf.function registers a gradient function for good, and that
    # function kept the run's whole graph alive: about 30 MB per run in a notebook's kernel
    from tensorflow.python.framework import ops

    run = dict(TINY, steps=3, style_loss=style_loss)
    stylize(content_picture, style_picture, **run)
    registered = len(ops._gradient_registry.list())
    for _ in range(2):
        stylize(content_picture, style_picture, **run)
    assert len(ops._gradient_registry.list()) == registered
