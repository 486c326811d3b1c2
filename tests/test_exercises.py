"""The classroom exercises: the checks, the generated exercise notebooks and the grader."""

import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from helpers import TINY
from styletransfer_utils.core import images, losses
from styletransfer_utils.lessons import answers, exercises, grading
from styletransfer_utils.lessons.exercises import ExerciseFailed

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
pytestmark = pytest.mark.usefixtures("vgg_weights")


def _fails(capsys, number, function, *words, **context):
    with pytest.raises(ExerciseFailed):
        exercises.check(number, function, **context)
    line = capsys.readouterr().out.strip()
    assert len(line.splitlines()) == 1 and line.startswith(f"Exercise {number} (") and ": FAIL: " in line, line
    for word in words:
        assert word in line, line
    return line


def _passes(capsys, number, function, **context):
    exercises.check(number, function, **context)
    assert capsys.readouterr().out.strip().endswith(": PASS")


# -- each check: the package's answer passes, typical wrong answers are named -------------------

def test_preprocessing(capsys):
    mean = images.IMAGENET_MEAN_BGR
    _passes(capsys, 1, lambda p: (np.asarray(p, np.float32)[..., ::-1] - mean)[None])
    _fails(capsys, 1, images.preprocess, "calls the package's own preprocess")
    _fails(capsys, 1, lambda p: (p[..., ::-1] - mean), "add the batch axis")
    _fails(capsys, 1, lambda p: (p - mean)[None], "still RGB")
    _fails(capsys, 1, lambda p: p[None, ..., ::-1].copy(), "still has the ImageNet mean")
    _fails(capsys, 1, lambda p: p[None].copy(), "not preprocessed at all")
    _fails(capsys, 1, lambda p: (p[..., ::-1] - mean)[None].astype(np.int32), "dtype int32")


def test_layer_selection(capsys):
    import keras

    vgg = keras.applications.VGG19(include_top=False, weights="imagenet")
    right = lambda names: keras.Model(vgg.input, {n: vgg.get_layer(n).output for n in names})  # noqa: E731
    _passes(capsys, 2, right)
    off_by_one = {"block4_conv2": "block4_conv1", "block3_conv1": "block3_conv1", "block1_conv1": "block1_conv1"}
    _fails(capsys, 2, lambda names: keras.Model(vgg.input, {n: vgg.get_layer(off_by_one[n]).output for n in names}),
           "comes from block4_conv1, not block4_conv2")
    _fails(capsys, 2, lambda names: keras.Model(vgg.input, {n: vgg.get_layer(n).output for n in names[:2]}),
           "exactly the layers asked for")
    _fails(capsys, 2, lambda names: keras.Model(vgg.input, {n: vgg.get_layer(n).output + 1.0 for n in names}),
           "differs from the reference")


def test_content_loss(capsys):
    _passes(capsys, 3, lambda F, P: tf.reduce_mean(tf.square(F - P)))
    _fails(capsys, 3, lambda F, P: losses.content_loss(F, P), "calls the package's own content_loss")
    _fails(capsys, 3, lambda F, P: tf.reduce_sum(tf.square(F - P)), "too large", "divide the sum by M*N")
    _fails(capsys, 3, lambda F, P: 0.5 * tf.reduce_mean(tf.square(F - P)), "2x too small", "drop the 1/2")
    _fails(capsys, 3, lambda F, P: tf.reduce_mean(tf.abs(F - P)), "square the differences")
    _fails(capsys, 3, lambda F, P: tf.square(F - P), "reduce to one number")


def test_gram_matrix(capsys):
    def gram(transpose_first, scale):
        def fn(features):
            _, h, w, n = features.shape
            F = tf.reshape(features, (h * w, n))
            G = tf.transpose(F) @ F if transpose_first else F @ tf.transpose(F)
            return (G * scale(h, w, n))[None]
        return fn

    _passes(capsys, 4, gram(True, lambda h, w, n: 1 / (h * w)))
    _fails(capsys, 4, losses.gram_matrix, "calls the package's own gram_matrix")  # the reference itself
    line = _fails(capsys, 4, gram(True, lambda h, w, n: 1.0), "too large: divide by H*W")
    assert re.search(r"is 20x too large", line), line  # the 4x5 tensor: the factor is named
    _fails(capsys, 4, gram(False, lambda h, w, n: 1 / (h * w)), "transpose trick is on the wrong axis")
    _fails(capsys, 4, gram(True, lambda h, w, n: 1 / (h * w * n)), "divide by H*W only")
    _fails(capsys, 4, lambda f: losses.gram_matrix(f)[0], "keep the batch axis")

    def reshaped(features):  # the classic bug: straight to (N, M), no transpose
        _, h, w, n = features.shape
        F = tf.reshape(features, (n, h * w))
        return (F @ tf.transpose(F) / (h * w))[None]

    _fails(capsys, 4, reshaped, "straight to (N, M)", "then transpose")


def test_an_answer_that_hides_its_call_of_the_reference_fails(capsys):
    import sys

    def hidden(features):  # no reference named, and the profiler turned off before the call
        sys.setprofile(None)
        return getattr(losses, "gram_" + "matrix")(features)

    _fails(capsys, 4, hidden, "turned off the profiler")
    _fails(capsys, 4, lambda f: getattr(losses, "gram_" + "matrix")(f), "calls the package's own gram_matrix")


def test_threads_that_already_run_are_named_where_no_profiler_reaches_them():
    """Before Python 3.12 a profiler misses threads that already run: a live pool's thread is named
    (and fails the exercise), one shut down is not; from 3.12 none is, as the profiler sees them all."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from styletransfer_utils.lessons.probe import UNWATCHED, unwatched_threads

    pool = ThreadPoolExecutor(1, thread_name_prefix="learners-pool")
    pool.submit(int).result()
    try:
        running = unwatched_threads()
    finally:
        pool.shutdown()
    if getattr(threading, "setprofile_all_threads", None):
        assert running == []
    else:
        assert "learners-pool_0" in running, running
    assert not any(name.startswith("learners-pool") for name in unwatched_threads())
    failure = exercises.reference_failure(4, [f"{UNWATCHED} learners-pool_0"])
    assert "(learners-pool_0)" in str(failure) and "stop them before the end of the notebook" in str(failure)


def test_another_process_is_named_whether_it_runs_already_or_the_function_starts_it(capsys):
    """A process started before the call is listed while it runs; a function that starts one fails."""
    import subprocess
    import sys

    from styletransfer_utils.lessons.probe import child_processes

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert f"process {child.pid}" in child_processes()
    finally:
        child.kill()
        child.wait()
    assert f"process {child.pid}" not in child_processes()

    def elsewhere(features):  # a right answer, but a process is started on the way (it could have computed it)
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        _, h, w, n = features.shape
        flat = tf.reshape(features, (h * w, n))
        return (tf.transpose(flat) @ flat / (h * w))[None]

    _fails(capsys, 4, elsewhere, "starts another process")


def test_a_crash_shows_the_learners_line_not_the_checkers(capsys):
    def gram(features):
        flat = tf.reshape(features, (-1, 7))  # a wrong reshape: the error is raised here
        return flat

    line = _fails(capsys, 4, gram, "your function raised InvalidArgumentError", "flat = tf.reshape(features, (-1, 7))")
    assert "function_node" not in line and "answers.py" not in line, line


def test_style_loss(capsys):
    def per_layer(features, targets, weights, combine):
        terms = [losses.layer_style_loss(features[n], targets[n]) for n in weights]
        return combine(terms, list(weights.values()))

    _passes(capsys, 5, lambda f, t, w: sum(wt * tf.reduce_sum(tf.square(losses.gram_matrix(f[n]) - t[n]))
                                           / (4.0 * f[n].shape[-1] ** 2) for n, wt in w.items()))
    _fails(capsys, 5, losses.style_loss, "calls the package's own", "style_loss")
    _fails(capsys, 5, lambda f, t, w: per_layer(f, t, w, lambda ts, ws: sum(ts)), "ignores the layer weights")
    _fails(capsys, 5, lambda f, t, w: per_layer(f, t, w, lambda ts, ws: sum(ts) / len(ts)), "averages the layers")
    _fails(capsys, 5, lambda f, t, w: sum(wt * tf.reduce_sum(tf.square(losses.gram_matrix(f[n]) - t[n]))
                                          for n, wt in w.items()), "misses 1/(4 N^2)")


@pytest.mark.slow
def test_total_variation(capsys):
    def looped(image):
        total = 0.0
        for i in range(image.shape[1] - 1):
            total += tf.reduce_mean(tf.square(image[:, i + 1] - image[:, i]))
        return total

    _passes(capsys, 6, lambda x: tf.reduce_mean(tf.square(x[:, 1:] - x[:, :-1]))
            + tf.reduce_mean(tf.square(x[:, :, 1:] - x[:, :, :-1])))
    _fails(capsys, 6, losses.total_variation_loss, "calls the package's own total_variation_loss")
    _fails(capsys, 6, lambda x: tf.reduce_mean(tf.abs(x[:, 1:] - x[:, :-1])) + tf.reduce_mean(tf.abs(x[:, :, 1:] - x[:, :, :-1])),
           "missing the square")
    hint = _fails(capsys, 6, looped, "uses a Python loop", "'for' on line", "leaves out its first row")
    assert ":-1]" not in hint and "1:]" not in hint  # the hint guides; it does not hand over the slices
    _fails(capsys, 6, lambda x: tf.reduce_mean(tf.square(x[:, 1:] - x[:, :-1])), "only the vertical differences")
    _fails(capsys, 6, lambda x: tf.reduce_sum(tf.square(x[:, 1:] - x[:, :-1])) + tf.reduce_sum(tf.square(x[:, :, 1:] - x[:, :, :-1])),
           "sums where the package takes means")


@pytest.fixture(scope="module")
def gatys():
    from styletransfer_utils.data import load_example
    from styletransfer_utils.gatys import StyleTransfer
    from styletransfer_utils.settings import Settings

    return StyleTransfer(load_example("tubingen", 64), [load_example("starry_night", 64)],
                         Settings(size=64, **answers.GATYS_SETTINGS))  # notebook 04's: the paper's layers


def _step(transfer, *, content_layer=None, drop=None, sign=1.0):
    s, extractor = transfer.settings, transfer.extractor
    layer = content_layer or s.content_layers[0]
    content_extractor = answers._features((layer,), x=transfer.x_content) if content_layer else None

    def value_and_grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            F = extractor(x)
            if content_layer:
                mine = answers._features((layer,), x=x)[layer]
                content = losses.content_loss(mine, content_extractor[layer])
            else:
                content = losses.content_loss(F[layer], transfer.content_targets[layer])
            style = sum(w * losses.layer_style_loss(F[n], transfer.style_targets[n]) for n, w in s.layer_weights().items())
            tv = losses.total_variation_loss(x)
            parts = {"content": s.content_weight * content, "style": s.style_weight * style, "tv": s.tv_weight * tv}
            total = sum(v for k, v in parts.items() if k != drop)
        return tf.stack([total, content, style, tv]), sign * tape.gradient(total, x)
    return value_and_grad


@pytest.mark.slow
def test_value_and_gradient_step(capsys, gatys):
    _fails(capsys, 7, gatys.value_and_grad, "calls the package's own", "value_and_grad", transfer=gatys)

    @tf.function
    def broken(x):
        return tf.reshape(x, (-1, 7)), x  # the check runs the Python function: the error is on this line

    _fails(capsys, 7, broken, "without @tf.function", "tf.reshape(x, (-1, 7))", transfer=gatys)
    _passes(capsys, 7, _step(gatys), transfer=gatys)
    _fails(capsys, 7, _step(gatys, drop="content"), "misses the content term", transfer=gatys)
    _fails(capsys, 7, _step(gatys, drop="tv"), "misses the TV term", transfer=gatys)
    _fails(capsys, 7, _step(gatys, sign=-1.0), "the sign is flipped", transfer=gatys)
    _fails(capsys, 7, _step(gatys, content_layer="block4_conv1"), "comes from block4_conv1, not block4_conv2",
           transfer=gatys)


def test_exercise_7s_cases_give_the_tv_term_a_share_that_its_total_check_sees(gatys):
    # on noise alone, tv_weight * TV is under 1e-6 of the total: a total without it passed at rtol 2e-6
    for fresh in (None, 1, 2, 3):
        shares = []
        for (x,) in answers._cases_value_and_grad({"transfer": gatys}, fresh):
            total, _, _, tv = np.asarray(gatys.value_and_grad(x)[0], np.float64)
            shares.append(gatys.settings.tv_weight * tv / total)
        assert max(shares) > 5 * 2e-6, (fresh, shares)


@pytest.mark.slow
def test_training_step(capsys, photos, style_file):
    from styletransfer_utils import feedforward as ff

    # the paper's objective, as notebook 06 writes it out for the exercise
    paper = {"relative_losses": False, "style_weight": 2e-4, "tv_weight": 1.0}
    trainer = ff.Trainer(style_file, photos, ff.TrainSettings(**{**TINY, **paper, "steps": 1, "precision": "float32"}))
    s = trainer.settings

    def terms(photos, *, content_from_output=False, sum_style=False, skip_tv=False):
        generated = trainer.model(photos, training=True)
        F = trainer.extractor(images.preprocess(tf.concat([generated, photos], axis=0)))
        n = len(photos)
        target = (lambda l: F[l][:n]) if content_from_output else (lambda l: tf.stop_gradient(F[l][n:]))
        content = sum(losses.content_loss(F[l][:n], target(l)) for l in s.content_layers) / len(s.content_layers)
        style = sum(losses.layer_style_loss(F[l][:n], trainer.style_grams[l]) for l in s.style_layers)
        style = style if sum_style else style / len(s.style_layers)
        tv = losses.total_variation_loss(generated)
        total = s.content_weight * content + s.style_weight * style + (0.0 if skip_tv else s.tv_weight * tv)
        return total, content, style, tv

    _fails(capsys, 8, trainer.losses, "calls the package's own", trainer=trainer)
    _passes(capsys, 8, terms, trainer=trainer)
    _fails(capsys, 8, lambda p: terms(p, content_from_output=True), "the content target must be the photos'",
           trainer=trainer)
    _fails(capsys, 8, lambda p: terms(p, sum_style=True), "average the style layers", trainer=trainer)
    _fails(capsys, 8, lambda p: terms(p, skip_tv=True), "misses the TV term", trainer=trainer)


def test_blended_grams(capsys):
    from styletransfer_utils.settings import Settings

    def blend(styles, weights, *, shares=None, mix=False):
        total = sum(weights)
        shares = [w / total for w in weights] if shares is None else shares
        if mix:  # the Gram matrix of the mixed features
            return {n: losses.gram_matrix(sum(c * s[n] for s, c in zip(styles, shares))) for n in styles[0]}
        return {n: sum(c * losses.gram_matrix(s[n]) for s, c in zip(styles, shares)) for n in styles[0]}

    _passes(capsys, 9, blend)
    _fails(capsys, 9, lambda st, w: blend(st, w, shares=Settings(style_blend_weights=tuple(w)).blend_weights(len(w))),
           "calls the package's own blend_weights")
    _fails(capsys, 9, lambda st, w: blend(st, w, shares=w), "4x too large", "divide the weights by their sum")
    _fails(capsys, 9, lambda st, w: blend(st, w, shares=[0.5, 0.5]), "ignores the blend weights")
    _fails(capsys, 9, lambda st, w: blend(st, w[::-1]), "gives each style another's weight")
    _fails(capsys, 9, lambda st, w: blend(st, w, mix=True), "Gram matrix of the mixed features")
    _fails(capsys, 9, lambda st, w: {n: g[0] for n, g in blend(st, w).items()}, "keep the batch axis")


def test_guided_gram_matrix(capsys):
    def guided(features, masks, *, divide="square", once=False):
        weighted = masks[..., None] * features
        gram = tf.einsum("shwi,hwj->sij", weighted, features[0]) if once else tf.einsum("shwi,shwj->sij", weighted, weighted)
        h, w = features.shape[1:3]
        size = {"square": tf.reduce_sum(masks**2, axis=(1, 2)), "sum": tf.reduce_sum(masks, axis=(1, 2)),
                "positions": tf.fill((len(masks),), float(h * w))}[divide]
        return gram / size[:, None, None]

    _passes(capsys, 10, guided)
    _fails(capsys, 10, losses.guided_gram_matrix, "calls the package's own guided_gram_matrix")
    _fails(capsys, 10, lambda f, m: tf.stack([losses.feature_moments(f, mask)[1] for mask in m]),
           "calls the package's own feature_moments")
    _fails(capsys, 10, lambda f, m: guided(f, m, divide="sum"), "not of its square", "divide by sum(m^2)")
    _fails(capsys, 10, lambda f, m: guided(f, m, divide="positions"), "divides by the number of positions H*W")
    _fails(capsys, 10, lambda f, m: guided(f, m, once=True), "applies the mask once")
    _fails(capsys, 10, lambda f, m: guided(f, m)[:1], "one Gram matrix per mask")


def test_a_stub_is_not_done(capsys):
    def stub(F, P):
        raise NotImplementedError("Exercise 3: content loss: write your code here")

    with pytest.raises(NotImplementedError):
        exercises.check(3, stub)
    assert capsys.readouterr().out.startswith("Exercise 3 (content loss): NOT DONE")


# -- the exercise notebooks ------------------------------------------------------------------------

def test_the_committed_exercise_notebooks_are_what_the_generator_makes(tmp_path):
    written = grading.generate(NOTEBOOKS, tmp_path)
    committed = sorted((NOTEBOOKS / "exercises").glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in committed], "run: python -m styletransfer_utils.lessons.grading"
    for new, old in zip(written, committed):
        assert new.read_text() == old.read_text(), f"{old.name} is stale; run: python -m styletransfer_utils.lessons.grading"
    numbers = sorted(n for p in committed for n in json.loads(p.read_text())["metadata"]["styletransfer"]["exercises"])
    assert numbers == list(exercises.EXERCISES)


def test_every_lesson_asks_written_questions_whose_sample_answers_stay_out_of_the_exercise_notebooks():
    """A question cell, then at once a cell tagged written-answer with the sample answer; in the
    exercise notebooks that cell says only "*Your answer:*" (its tag kept), and no line of a
    sample answer appears anywhere in notebooks/exercises/."""
    learners = "\n".join(c.source for p in (NOTEBOOKS / "exercises").glob("*.ipynb")
                         for c in nbformat.read(str(p), as_version=4).cells)
    for lesson in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(str(lesson), as_version=4).cells
        answers = [i for i, c in enumerate(cells) if grading.WRITTEN_ANSWER in c.metadata.get("tags", [])]
        assert 2 <= len(answers) <= 3, f"{lesson.name}: {len(answers)} written questions"
        for i in answers:
            assert cells[i].cell_type == cells[i - 1].cell_type == "markdown", (lesson.name, i)
            assert cells[i - 1].source.startswith("**Inline question") and cells[i].source.startswith("**Sample answer")
        exercise = nbformat.read(str(NOTEBOOKS / "exercises" / lesson.name), as_version=4).cells
        tagged = [c for c in exercise if grading.WRITTEN_ANSWER in c.metadata.get("tags", [])]
        assert [(c.cell_type, c.source) for c in tagged] == [("markdown", grading.YOUR_ANSWER)] * len(answers)
        for i in answers:
            for line in cells[i].source.split("\n"):
                assert len(line) < 25 or line not in learners, f"{lesson.name}: a sample answer leaks: {line!r}"
    assert "Sample answer" not in learners


def test_stubs_replace_each_solution_with_its_hint():
    source = "def f(x):\n    # BEGIN EXERCISE 3: square it\n    return x * x\n    # END EXERCISE 3\n"
    assert grading.stub_source(source) == ('def f(x):\n    # Exercise 3: square it\n    raise NotImplementedError('
                                           '"Exercise 3: content loss: write your code here")\n')
    with pytest.raises(ValueError, match="no END"):
        grading.stub_source("# BEGIN EXERCISE 3: x\n")


@pytest.mark.parametrize("path", sorted((NOTEBOOKS / "exercises").glob("*.ipynb")), ids=lambda p: p.stem)
@pytest.mark.slow
def test_each_exercise_notebook_stops_at_its_first_stub(path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(str(path), as_version=4)
    first = nb.metadata["styletransfer"]["exercises"][0]
    with pytest.raises(CellExecutionError) as info:
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    assert info.value.ename == "NotImplementedError", info.value
    assert f"NotImplementedError: Exercise {first}:" in str(info.value) or info.value.evalue.startswith(f"Exercise {first}:"), info.value.evalue
