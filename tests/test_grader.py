"""The grader against learners who try to fool it: a folder of adversarial notebooks, each graded as it deserves.

Small notebooks of lesson 03 written here, in NumPy (their kernels start without TensorFlow), beside
the real lesson 01 (solved) and its untouched exercise notebook; the kernels run two at a time.
"""

import csv
import json
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import assert_one_line_error
from styletransfer_utils.cli import main
from styletransfer_utils.lessons import grader

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
pytestmark = pytest.mark.usefixtures("vgg_weights")

LESSON_03 = "03_content_and_style_losses"
SOLVED = '''import numpy as np

def my_content_loss(F, P):
    return np.mean((np.asarray(F, np.float64) - np.asarray(P, np.float64)) ** 2)

def my_gram_matrix(features):
    f = np.asarray(features, np.float64)
    _, h, w, n = f.shape
    flat = f.reshape(h * w, n)
    return (flat.T @ flat / (h * w))[None]

def my_style_loss(features, targets, weights):
    total = 0.0
    for layer, w in weights.items():
        G, n = my_gram_matrix(features[layer]), np.asarray(features[layer]).shape[-1]
        total += w * np.sum((G - np.asarray(targets[layer])) ** 2) / (4.0 * n**2)
    return total

def my_tv_loss(image):
    x = np.asarray(image, np.float64)
    return np.mean((x[:, 1:] - x[:, :-1]) ** 2) + np.mean((x[:, :, 1:] - x[:, :, :-1]) ** 2)
'''
CONTENT = '''import numpy as np

def my_content_loss(F, P):
    return np.mean((np.asarray(F, np.float64) - np.asarray(P, np.float64)) ** 2)
'''
FORGED = "\n".join(f'# exercises.check({n}, f)\nprint("Exercise {n} ({name}): PASS")' for n, name in
                   [(3, "content loss"), (4, "Gram matrix"), (5, "style loss over layers"), (6, "total variation, vectorised")])


def _notebook(path, *cells, lesson=LESSON_03):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    if lesson:  # what the generator writes; the grader does not trust its list of exercises
        nb.metadata["styletransfer"] = {"series": "StyleTransfer", "lesson": lesson, "exercises": [3]}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _grades(book, learner):
    entry = next(e for e in book["learners"] if e["learner"] == learner)
    return {int(n): (e["status"], e["message"]) for n, e in entry["exercises"].items()}, entry


@pytest.mark.slow
def test_a_class_of_adversarial_notebooks_gets_the_grades_it_deserves(tmp_path, capsys):
    class_ = tmp_path / "submissions"
    # one subfolder per learner: the real lesson 01, solved, and its untouched exercise notebook
    (class_ / "solver").mkdir(parents=True)
    (class_ / "solver" / "01_preprocessing.ipynb").write_text((NOTEBOOKS / "01_preprocessing.ipynb").read_text())
    (class_ / "idle").mkdir()
    (class_ / "idle" / "01_preprocessing.ipynb").write_text((NOTEBOOKS / "exercises" / "01_preprocessing.ipynb").read_text())
    # one file per learner
    _notebook(class_ / "good.ipynb", SOLVED)
    _notebook(class_ / "forger.ipynb", FORGED)  # prints PASS for every exercise, defines nothing
    _notebook(class_ / "deleter.ipynb", CONTENT + "\ndef my_gram_matrix(f):\n    f = np.asarray(f)\n"
              "    flat = f.reshape(-1, f.shape[-1])\n    return (flat.T @ flat)[None]\n")  # no check cells at all
    _notebook(class_ / "editor.ipynb", "import numpy as np\nfrom styletransfer_utils.core import losses\n"
              "from styletransfer_utils.lessons import exercises\n"
              "def my_gram_matrix(f):\n    f = np.asarray(f)\n    flat = f.reshape(-1, f.shape[-1])\n"
              "    return (flat.T @ flat)[None]",
              "exercises.check(4, losses.gram_matrix)  # the check cell, edited to check the reference")
    _notebook(class_ / "patcher.ipynb", "import numpy as np\nfrom styletransfer_utils.lessons import exercises\n"
              "from styletransfer_utils.core import losses\n"
              "def my_content_loss(F, P):\n    return np.sum((np.asarray(F) - np.asarray(P)) ** 2)\n"
              "exercises.check = lambda *a, **k: print('Exercise 3 (content loss): PASS')\n"
              "np.allclose = lambda *a, **k: True\nnp.linalg.norm = lambda *a, **k: 0.0\n"
              "losses.content_loss = my_content_loss\nexercises.check(3, my_content_loss)",
              "def my_gram_matrix(f):\n    flat = np.asarray(f).reshape(-1, 1000003)\n    return flat")
    _notebook(class_ / "caller.ipynb", "from styletransfer_utils.core import losses\n"
              "def my_content_loss(F, P):\n    return getattr(losses, 'content' + '_loss')(F, P)  # hidden from a reader\n"
              "my_gram_matrix = lambda features: losses.gram_matrix(features)")
    _notebook(class_ / "threader.ipynb", "import importlib, threading\n"
              "_m = importlib.import_module('styletransfer_utils.core.' + 'losses')\n"
              "def my_content_loss(F, P):  # the answer, named nowhere, called in a thread of its own\n"
              "    box = {}\n    t = threading.Thread(target=lambda: box.update(v=getattr(_m, 'content' + '_loss')(F, P)))\n"
              "    t.start()\n    t.join()\n    return box['v']")
    _notebook(class_ / "pooler.ipynb", "import importlib\nfrom concurrent.futures import ThreadPoolExecutor\n"
              "_m = importlib.import_module('styletransfer_utils.core.' + 'losses')\n"
              "_pool = ThreadPoolExecutor(1)\n_pool.submit(int).result()  # its thread runs from here on\n"
              "def my_content_loss(F, P):  # the answer, named nowhere, run in that thread\n"
              "    return _pool.submit(getattr(_m, 'content' + '_loss'), F, P).result()")
    _notebook(class_ / "forker.ipynb", "import importlib\nfrom concurrent.futures import ProcessPoolExecutor\n"
              "_m = importlib.import_module('styletransfer_utils.core.' + 'losses')\n"
              "_pool = ProcessPoolExecutor(1)\n_pool.submit(abs, -1).result()  # its process runs from here on\n"
              "def my_content_loss(F, P):  # the answer, named nowhere, run in that process\n"
              "    return _pool.submit(getattr(_m, 'content' + '_loss'), F, P).result()")
    _notebook(class_ / "dies.ipynb", CONTENT, "import os\nos._exit(1)")
    _notebook(class_ / "other.ipynb", "print('a notebook of another course')", lesson=None)
    (class_ / "essay.ipynb").write_text("my homework, in prose")

    stem = tmp_path / "book"
    assert main(["grade", str(class_), "--jobs", "2", "--timeout", "300", "--json", "-o", str(stem), "-q"]) == 0
    book = json.loads(capsys.readouterr().out)
    assert list(map(int, book["exercises"])) == [1, 3, 4, 5, 6]

    grades, entry = _grades(book, "solver")
    assert grades[1] == ("PASS", "") and entry["points"] == 1
    assert grades[3][0] == "NOT DONE" and "no notebook of lesson 03" in grades[3][1]
    grades, entry = _grades(book, "idle")
    assert grades[1][0] == "NOT DONE" and entry["points"] == 0
    grades, entry = _grades(book, "good")
    assert [grades[n][0] for n in (3, 4, 5, 6)] == ["PASS"] * 4 and grades[1][0] == "NOT DONE", grades
    assert entry["points"] == 4 and entry["max_points"] == 5
    grades, entry = _grades(book, "forger")
    assert [grades[n][0] for n in (3, 4, 5, 6)] == ["NOT DONE"] * 4 and entry["points"] == 0
    assert "defines no my_content_loss" in grades[3][1]
    grades, entry = _grades(book, "deleter")
    assert grades[3][0] == "PASS" and grades[4] [0] == "FAIL" and "too large: divide by H*W" in grades[4][1]
    assert grades[5][0] == grades[6][0] == "NOT DONE" and entry["points"] == 1
    grades, _ = _grades(book, "editor")
    assert grades[4][0] == "FAIL" and "too large" in grades[4][1]
    grades, entry = _grades(book, "patcher")
    assert grades[3][0] == "FAIL" and "too large" in grades[3][1] and entry["points"] == 0
    assert grades[4][0] == "FAIL" and "raised ValueError" in grades[4][1], grades[4]
    assert "(at line 2 of my_gram_matrix: flat = np.asarray(f).reshape(-1, 1000003))" in grades[4][1], grades[4]
    grades, entry = _grades(book, "caller")
    assert grades[3][0] == "FAIL" and "calls the package's own content_loss" in grades[3][1]
    assert grades[4][0] == "FAIL" and "calls the package's own gram_matrix" in grades[4][1]
    grades, entry = _grades(book, "threader")
    assert grades[3][0] == "FAIL" and "calls the package's own content_loss" in grades[3][1], grades[3]
    grades, entry = _grades(book, "pooler")  # before Python 3.12 no profiler reaches a thread that already runs
    words = "calls the package's own content_loss" if sys.version_info >= (3, 12) else "ThreadPoolExecutor-0_0"
    assert grades[3][0] == "FAIL" and words in grades[3][1] and entry["points"] == 0, grades[3]
    grades, entry = _grades(book, "forker")  # no profiler of this process sees what another process runs
    assert grades[3][0] == "FAIL" and "still running" in grades[3][1] and "process " in grades[3][1], grades[3]
    grades, entry = _grades(book, "dies")  # exercise 3 was graded after its cell, before the kernel died
    assert grades[3][0] == "PASS" and entry["points"] == 1 and "the kernel died in cell 2" in entry["problems"]
    assert grades[4][0] == "FAIL" and "not graded: the kernel died in cell 2" in grades[4][1]
    for learner, words in (("other", "not a notebook of the StyleTransfer series"), ("essay", "not a Jupyter notebook")):
        _, entry = _grades(book, learner)
        assert entry["points"] == 0 and words in entry["problems"], entry

    rows = {row["learner"]: row for row in csv.DictReader(stem.with_suffix(".csv").open())}
    assert set(rows) == {"solver", "idle", "good", "forger", "deleter", "editor", "patcher", "caller", "threader",
                         "pooler", "forker", "dies", "other", "essay"}
    assert rows["good"]["4 Gram matrix"] == "1" and rows["good"]["points"] == "4" and rows["deleter"]["points"] == "1"
    assert json.loads(stem.with_suffix(".json").read_text()) == book


@pytest.mark.slow
def test_a_cell_time_limit_and_a_memory_cap_contain_a_notebook(tmp_path, capsys):
    _notebook(tmp_path / "loop.ipynb", "while True:\n    pass", CONTENT,
              "def my_gram_matrix(features):\n    while True:\n        pass")
    bomb = "import numpy as np\nhog = []\nfor _ in range(6):  # 6 GB, unless the cap stops it\n    hog.append(np.ones(2**27))"
    _notebook(tmp_path / "bomb.ipynb", bomb, "del hog", CONTENT)
    results = dict(grader_run(tmp_path, ["loop.ipynb", "bomb.ipynb"], timeout=5, memory=1.5))
    loop, bombed = results["loop"], results["bomb"]
    assert loop.failed_cells == ["cell 1: stopped at the time limit (5 s)"], loop
    assert [g.status for g in loop.grades] == ["PASS", "FAIL", "NOT DONE", "NOT DONE"]
    assert "ran longer than the time limit" in loop.grades[1].message
    assert bombed.failed_cells[0] == "cell 1: MemoryError" and bombed.grades[0].status == "PASS", bombed


def grader_run(folder, names, *, timeout, memory):
    from styletransfer_utils.lessons.gradebook import grade_all

    limits = grader.Limits(timeout=timeout, memory=int(memory * 2**30))
    return grade_all([(Path(n).stem, folder / n) for n in names], limits, jobs=2)


def test_the_help_says_that_grading_runs_the_learners_code(capsys):
    assert main(["grade", "--help"]) == 0
    assert "grading runs the learners' code" in " ".join(capsys.readouterr().out.split())


def test_a_path_that_is_not_there_is_one_line(tmp_path, capsys):
    assert_one_line_error(capsys, ["grade", str(tmp_path / "missing.ipynb")], "no such notebook")


def test_the_source_of_a_learners_function_is_found_in_the_notebook():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\ndef f(x):\n    return 1"),
                                         nbformat.v4.new_code_cell("f = lambda x: losses.gram_matrix(x)")])
    assert grader.function_source(nb, "f") == "lambda x: losses.gram_matrix(x)"
    assert grader.function_source(nb, "g") is None


def _keywords(notebook, call):
    """The literal keyword arguments of the first ``call(...)`` in a notebook's code cells."""
    import ast

    for cell in nbformat.read(str(NOTEBOOKS / notebook), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        text = "\n".join("" if line.startswith("%") else line for line in cell.source.split("\n"))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == call:
                found = {}
                for k in node.keywords:
                    try:
                        found[k.arg] = ast.literal_eval(k.value)
                    except ValueError:
                        found[k.arg] = ast.unparse(k.value)
                return found
    raise AssertionError(f"no {call}(...) in {notebook}")


def test_the_grader_sets_exercises_7_and_8_up_as_notebooks_04_and_06_do_in_smoke_mode():
    from styletransfer_utils.lessons.answers import GATYS_SETTINGS, TRAIN_SETTINGS

    gatys = _keywords("04_optimization_and_acceleration.ipynb", "Settings")
    assert gatys.pop("size") == "COMPARE_SIZE" and gatys == GATYS_SETTINGS
    smoke = {"TRAIN_STEPS": 4, "TRAIN_BATCH": 1, "TRAIN_CROP": 64, "HALF_WIDTH": True}  # the parameters cell's
    train = {k: smoke.get(v, v) for k, v in _keywords("06_feed_forward_networks.ipynb", "TrainSettings").items()
             if k not in ("content_layers", "style_layers")}
    assert train == TRAIN_SETTINGS


# -- exercises 9 (lesson 05) and 10 (lesson 07): graded from outside, on drawn inputs -------------

BLEND = '''import numpy as np

def _gram(f):
    flat = np.asarray(f, np.float64).reshape(-1, np.shape(f)[-1])
    return (flat.T @ flat / len(flat))[None]

def my_blended_grams(styles, weights):
    total = sum(weights)
    return {n: sum(w / total * _gram(s[n]) for s, w in zip(styles, weights)) for n in styles[0]}
'''
GUIDED = '''import numpy as np

def my_guided_gram(features, masks):
    f, m = np.asarray(features, np.float64)[0], np.asarray(masks, np.float64)
    flat = (m[..., None] * f).reshape(len(m), -1, f.shape[-1])
    return np.einsum("smi,smj->sij", flat, flat) / (m ** 2).sum(axis=(1, 2))[:, None, None]
'''


@pytest.mark.slow
def test_exercises_9_and_10_a_right_answer_passes_the_answer_called_and_a_classic_slip_fail(tmp_path):
    blend, guided = "05_interactive_sliders", "07_controlling_the_result"
    _notebook(tmp_path / "blend_good.ipynb", BLEND, lesson=blend)
    _notebook(tmp_path / "blend_caller.ipynb", BLEND + "from styletransfer_utils.settings import Settings\n"
              "def my_blended_grams(styles, weights):  # the package's normalised weights\n"
              "    shares = Settings(style_blend_weights=tuple(weights)).blend_weights(len(weights))\n"
              "    return {n: sum(w * _gram(s[n]) for s, w in zip(styles, shares)) for n in styles[0]}", lesson=blend)
    _notebook(tmp_path / "blend_raw.ipynb", BLEND.replace("total = sum(weights)", "total = 1.0"), lesson=blend)
    _notebook(tmp_path / "guided_good.ipynb", GUIDED, lesson=guided)
    _notebook(tmp_path / "guided_caller.ipynb", "from styletransfer_utils.core import losses\n"
              "my_guided_gram = losses.guided_gram_matrix", lesson=guided)
    _notebook(tmp_path / "guided_sum.ipynb", GUIDED.replace("(m ** 2).sum", "m.sum"), lesson=guided)
    from styletransfer_utils.lessons.gradebook import grade_all

    names = ["blend_good", "blend_caller", "blend_raw", "guided_good", "guided_caller", "guided_sum"]
    results = dict(grade_all([(n, tmp_path / f"{n}.ipynb") for n in names], grader.Limits(timeout=120), jobs=2, seed=7))
    grades = {n: (r.grades[0].exercise, r.grades[0].status, r.grades[0].message) for n, r in results.items()}
    assert grades["blend_good"] == (9, "PASS", "") and grades["guided_good"] == (10, "PASS", ""), grades
    assert grades["blend_caller"][1] == "FAIL" and "calls the package's own blend_weights" in grades["blend_caller"][2]
    assert grades["blend_raw"][1] == "FAIL" and "divide the weights by their sum" in grades["blend_raw"][2], grades
    assert grades["guided_caller"][1] == "FAIL" and "own guided_gram_matrix" in grades["guided_caller"][2], grades
    assert grades["guided_sum"][1] == "FAIL" and "not of its square" in grades["guided_sum"][2], grades


# -- exercises 2 and 7 (lessons 02 and 04), which need Keras and a StyleTransfer in the kernel ----

LAYERS = '''import keras
weights = keras.applications.VGG19(weights="imagenet", include_top=False)

def layer_model(names):
    return keras.Model(weights.input, {n: weights.get_layer(n).output for n in names})
'''
GATYS = '''import tensorflow as tf
from styletransfer_utils import Settings, data
from styletransfer_utils.core import losses
from styletransfer_utils.gatys import StyleTransfer

gatys = StyleTransfer(data.example_path("tubingen"), [data.example_path("starry_night")], Settings(
    size=64, precision="float32", seed=0, relative_losses=False, style_weight=5e-4, tv_weight=1e-3,
    content_layers=("conv4_2",), style_layer_weights=(1, 1, 1, 1, 1)))
s, extractor, P, A = gatys.settings, gatys.extractor, gatys.content_targets, gatys.style_targets

@tf.function
def value_and_grad(x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        F = extractor(x)
        content = sum(losses.content_loss(F[l], P[l]) for l in s.content_layers) / len(s.content_layers)
        style = sum(w * losses.layer_style_loss(F[l], A[l]) for l, w in s.layer_weights().items())
        tv = losses.total_variation_loss(x)
        total = s.content_weight * content + s.style_weight * style + s.tv_weight * tv
    return tf.stack([total, content, style, tv]), tape.gradient(total, x)
'''
TRAINING = '''import tempfile
from pathlib import Path
import tensorflow as tf
from styletransfer_utils import data, feedforward as ff
from styletransfer_utils.core import losses
from styletransfer_utils.core.images import preprocess, save_image
from styletransfer_utils.settings import JOHNSON_CONTENT_LAYERS, JOHNSON_STYLE_LAYERS

folder = Path(tempfile.mkdtemp())
for name in data.SHIPPED_CONTENT:
    save_image(folder / f"{name}.png", data.shipped_content(name))
settings = ff.TrainSettings(steps=4, batch_size=1, crop_size=64, half_width=True, checkpoint_every=0,
                            preview_every=0, seed=0, init=None, relative_losses=False, precision="float32",
                            content_layers=JOHNSON_CONTENT_LAYERS, style_layers=JOHNSON_STYLE_LAYERS,
                            style_weight=2e-4, tv_weight=1.0)
exact = ff.Trainer(data.example_path("starry_night"), folder, settings)
s, transformer, vgg, A = exact.settings, exact.model, exact.extractor, exact.style_grams

def loss_terms(photos):
    generated = transformer(photos, training=True)
    F = vgg(preprocess(tf.concat([generated, photos], axis=0)))
    n = len(photos)
    content = sum(losses.content_loss(F[l][:n], tf.stop_gradient(F[l][n:]))
                  for l in s.content_layers) / len(s.content_layers)
    style = sum(losses.layer_style_loss(F[l][:n], A[l]) for l in s.style_layers) / len(s.style_layers)
    tv = losses.total_variation_loss(generated)
    return s.content_weight * content + s.style_weight * style + s.tv_weight * tv, content, style, tv
'''


@pytest.mark.slow
def test_exercises_2_7_and_8_a_right_answer_passes_the_answer_called_and_a_classic_slip_fail(tmp_path):
    layers, gatys, training = "02_vgg19_feature_maps", "04_optimization_and_acceleration", "06_feed_forward_networks"
    _notebook(tmp_path / "layers_good.ipynb", LAYERS, lesson=layers)
    _notebook(tmp_path / "layers_caller.ipynb", "from styletransfer_utils.core.features import FeatureExtractor\n"
              "def layer_model(names):\n    return FeatureExtractor(names, precision='float32')", lesson=layers)
    _notebook(tmp_path / "layers_shifted.ipynb", LAYERS.replace("get_layer(n)", "get_layer(n.replace('conv3', 'conv4'))"),
              lesson=layers)  # the next layer, of the same shape (seed 4 asks for block4_conv3, block5_conv3 and _conv4)
    _notebook(tmp_path / "gatys_good.ipynb", GATYS, lesson=gatys)
    _notebook(tmp_path / "gatys_caller.ipynb", GATYS + "value_and_grad = gatys.value_and_grad", lesson=gatys)
    # TV is about 1e-6 of the total on noise: the grader's painted case is what shows that it is left out
    _notebook(tmp_path / "gatys_no_tv.ipynb", GATYS.replace(" + s.tv_weight * tv", ""), lesson=gatys)
    _notebook(tmp_path / "training_good.ipynb", TRAINING, lesson=training)
    _notebook(tmp_path / "training_caller.ipynb", TRAINING + "loss_terms = exact.losses", lesson=training)
    _notebook(tmp_path / "training_summed.ipynb", TRAINING.replace(") / len(s.style_layers)", ")"), lesson=training)
    from styletransfer_utils.lessons.gradebook import grade_all

    names = ["layers_good", "layers_caller", "layers_shifted", "gatys_good", "gatys_caller", "gatys_no_tv",
             "training_good", "training_caller", "training_summed"]
    results = dict(grade_all([(n, tmp_path / f"{n}.ipynb") for n in names], grader.Limits(timeout=300), jobs=2, seed=4))
    grades = {n: (r.grades[0].exercise, r.grades[0].status, r.grades[0].message) for n, r in results.items()}
    assert grades["layers_good"] == (2, "PASS", "") and grades["gatys_good"] == (7, "PASS", ""), grades
    assert grades["layers_caller"][1] == "FAIL" and "calls the package's own" in grades["layers_caller"][2], grades
    assert grades["layers_shifted"][1] == "FAIL" and "pick the layer by its name" in grades["layers_shifted"][2], grades
    assert grades["gatys_caller"][1] == "FAIL" and "calls the package's own" in grades["gatys_caller"][2], grades
    assert grades["gatys_no_tv"][1] == "FAIL" and "misses the TV term" in grades["gatys_no_tv"][2], grades
    assert grades["training_good"] == (8, "PASS", ""), grades
    assert grades["training_caller"][1] == "FAIL" and "calls the package's own" in grades["training_caller"][2], grades
    assert grades["training_summed"][1] == "FAIL" and "average the style layers" in grades["training_summed"][2], grades
