"""The objective, written once (``objective.Objective``), checked by hand and on two backends."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from styletransfer_utils.core.objective import LOSS_TERMS, Objective
from styletransfer_utils.settings import JOHNSON_CONTENT_LAYERS, JOHNSON_STYLE_LAYERS, Settings, TrainSettings

ROOT = Path(__file__).resolve().parents[1]


def _gram(f):
    b, h, w, n = f.shape
    flat = f.reshape(b, h * w, n).astype(np.float64)
    return np.einsum("bmi,bmj->bij", flat, flat) / (h * w)


def _style(f, target):  # 1/(4 N^2) sum (G - A)^2, averaged over the batch
    n = f.shape[-1]
    return float(((_gram(f) - target) ** 2).sum() / (4 * n * n) / f.shape[0])


def _tv(x):
    x = x.astype(np.float64)
    return float(((x[:, 1:] - x[:, :-1]) ** 2).mean() + ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean())


def _features(seed, shapes):
    rng = np.random.default_rng(seed)
    return {name: rng.normal(size=shape).astype(np.float32) for name, shape in shapes.items()}


SHAPES = {"a": (1, 6, 5, 3), "b": (1, 3, 2, 4), "c": (1, 4, 4, 2)}


def test_terms_match_a_numpy_computation_term_by_term():
    objective = Objective(2.0, 0.5, 0.25, content_layers=("a", "c"), style_layer_weights={"a": 0.3, "b": 0.7})
    feats, content = _features(0, SHAPES), _features(1, SHAPES)
    style = {k: _gram(v) for k, v in _features(2, SHAPES).items()}
    picture = np.random.default_rng(3).uniform(0, 255, (1, 7, 9, 3)).astype(np.float32)
    terms = objective.terms(feats, content, style, picture)
    c = np.mean([((feats[k] - content[k]).astype(np.float64) ** 2).mean() for k in ("a", "c")])
    per_layer = {k: _style(feats[k], style[k]) for k in ("a", "b")}
    s = 0.3 * per_layer["a"] + 0.7 * per_layer["b"]
    expected = {"content": c, "style": s, "tv": _tv(picture), "total": 2.0 * c + 0.5 * s + 0.25 * _tv(picture)}
    for name, value in expected.items():
        assert float(terms[name]) == pytest.approx(value, rel=1e-5), name
    assert {k: float(v) for k, v in terms["style_layers"].items()} == pytest.approx(per_layer, rel=1e-5)
    assert list(np.asarray(Objective.stack(terms))) == pytest.approx([expected[k] for k in LOSS_TERMS], rel=1e-5)


def test_content_layer_weights_weigh_the_content_term():
    weights = {"a": 0.25, "c": 0.75}
    objective = Objective(1.0, 0.0, 0.0, content_layers=("a", "c"), content_layer_weights=weights)
    feats, content = _features(5, SHAPES), _features(6, SHAPES)
    terms = objective.terms(feats, content, {}, np.zeros((1, 4, 4, 3), np.float32))
    expected = sum(w * ((feats[k] - content[k]).astype(np.float64) ** 2).mean() for k, w in weights.items())
    assert float(terms["content"]) == pytest.approx(expected, rel=1e-5)


def test_style_targets_of_the_style_features_give_zero_style_loss():
    objective = Objective(0.0, 1.0, 0.0, style_layer_weights={"a": 0.5, "b": 0.5})
    feats = _features(4, SHAPES)
    terms = objective.terms(feats, {}, objective.style_targets(feats), np.zeros((1, 4, 4, 3), np.float32))
    assert float(terms["style"]) == pytest.approx(0.0, abs=1e-6)
    assert float(terms["content"]) == 0.0 and float(terms["total"]) == pytest.approx(0.0, abs=1e-6)


def test_from_settings_gatys_and_training():
    gatys = Objective.from_settings(Settings(style_layers=("conv1_1", "conv3_1"), style_layer_weights=(1, 3),
                                             content_layers=("conv4_2",)))
    assert gatys.style_layer_weights == {"block1_conv1": 0.25, "block3_conv1": 0.75}
    assert gatys.content_layers == ("block4_conv2",) and gatys.content_layer_weights == {"block4_conv2": 1.0}
    assert gatys.layers == ("block4_conv2", "block1_conv1", "block3_conv1")
    default = Objective.from_settings(Settings())  # conv5_1 turned down, content at conv5_2 too
    assert default.content_layer_weights == pytest.approx({"block4_conv2": 2 / 3, "block5_conv2": 1 / 3})
    assert default.style_layer_weights == pytest.approx({**{f"block{i}_conv1": 1 / 4.3 for i in range(1, 5)},
                                                         "block5_conv1": 0.3 / 4.3})
    assert default.layers == ("block4_conv2", "block5_conv2", *(f"block{i}_conv1" for i in range(1, 6)))
    training = Objective.from_settings(TrainSettings())  # networks train on Gatys' layers
    assert training.style_layer_weights == {f"block{i}_conv1": 0.2 for i in range(1, 6)}
    assert training.content_layers == ("block4_conv2",)
    johnson = Objective.from_settings(TrainSettings(content_layers=JOHNSON_CONTENT_LAYERS,
                                                    style_layers=JOHNSON_STYLE_LAYERS))
    assert johnson.style_layer_weights == {name: 0.25 for name in JOHNSON_STYLE_LAYERS}
    assert johnson.content_layers == ("block2_conv2",)
    assert Objective.from_settings(Settings(content_weight=0)).content_layers == ()
    assert Objective.from_settings(Settings(style_weight=0)).style_layer_weights == {}


def test_batch_terms_take_content_targets_from_the_photos():
    """Johnson's step: the photos' features are the content targets, each picture scored on its
    own; the photos and the generated pictures go through the extractor in passes of their own,
    so that only the generated pictures' pass is differentiated."""
    objective = Objective(1.0, 0.1, 0.01, content_layers=("half",), style_layer_weights={"square": 1.0})
    calls = []

    def features_of(x):  # a stand-in for VGG19: two "layers" of the preprocessed batch
        calls.append(np.asarray(x).shape)
        return {"half": 0.5 * x, "square": x * x / 1000.0}

    rng = np.random.default_rng(5)
    generated = rng.uniform(0, 255, (2, 6, 6, 3)).astype(np.float32)
    photos = rng.uniform(0, 255, (2, 6, 6, 3)).astype(np.float32)
    style = rng.normal(size=(1, 3, 3)).astype(np.float32)
    terms = objective.batch_terms(features_of, generated, photos, {"square": style})
    assert calls == [(2, 6, 6, 3), (2, 6, 6, 3)]  # the photos, then the generated pictures
    bgr = lambda rgb: rgb[..., ::-1] - np.array([103.939, 116.779, 123.68])  # noqa: E731
    g, p = bgr(generated.astype(np.float64)), bgr(photos.astype(np.float64))
    assert float(terms["content"]) == pytest.approx(((0.5 * g - 0.5 * p) ** 2).mean(), rel=1e-5)
    assert float(terms["style"]) == pytest.approx(_style((g * g / 1000.0), style), rel=1e-4)
    assert float(terms["tv"]) == pytest.approx(_tv(generated), rel=1e-5)


_JAX_CHILD = r"""
import json, sys
class NoTensorFlow:  # the GPU machine has no TensorFlow: make sure nothing here needs it
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("TensorFlow is blocked in this test")
sys.meta_path.insert(0, NoTensorFlow())
import importlib.util
import numpy as np
import keras
spec = importlib.util.spec_from_file_location("jax_gpu", sys.argv[2])
jax_gpu = importlib.util.module_from_spec(spec); spec.loader.exec_module(jax_gpu)
from styletransfer_utils.feedforward import build_transformer
from styletransfer_utils.core.objective import Objective
data = np.load(sys.argv[1])
objective = Objective(**json.loads(str(data["objective"])))
extractor = jax_gpu.vgg(objective.layers, {k[4:]: data[k] for k in data.files if k.startswith("vgg/")}, "float32")
net = build_transformer(half_width=True, precision="float32")
net.set_weights([data[f"net/{i}"] for i in range(len(net.weights))])
variables = lambda m: ([v.value for v in m.trainable_variables], [v.value for v in m.non_trainable_variables])
terms = jax_gpu.make_losses(net, extractor, objective)
grams = {k[5:]: data[k] for k in data.files if k.startswith("gram/")}
total, values = terms(variables(net), variables(extractor.model), data["batch"], grams)
print(json.dumps({"backend": keras.backend.backend(), "tensorflow": "tensorflow" in sys.modules,
                  "values": [float(v) for v in np.asarray(values)]}))
"""


@pytest.mark.slow
def test_the_objective_runs_on_jax_without_tensorflow_as_on_tensorflow(tmp_path):
    """``bench/jax_gpu.py`` trains on a GPU machine that has JAX and no TensorFlow: its step,
    run there with TensorFlow blocked, gives the terms ``Trainer.losses`` computes here."""
    pytest.importorskip("jax", reason="JAX is a development dependency (pip install -e '.[dev]')")
    from styletransfer_utils.core.features import FeatureExtractor
    from styletransfer_utils.feedforward import build_transformer

    objective = Objective(1.0, 1e-2, 1e-3, content_layers=("block1_conv2",),
                          style_layer_weights={"block1_conv1": 0.5, "block2_conv1": 0.5})
    extractor = FeatureExtractor(objective.layers, precision="float32", weights=None)
    net = build_transformer(half_width=True, precision="float32", seed=1)
    rng = np.random.default_rng(6)
    batch = rng.uniform(0, 255, (2, 32, 32, 3)).astype(np.float32)
    style = rng.uniform(0, 255, (1, 40, 40, 3)).astype(np.float32)
    from styletransfer_utils.core.images import preprocess

    grams = {k: np.asarray(v) for k, v in objective.style_targets(extractor(preprocess(style))).items()}
    expected = np.asarray(Objective.stack(objective.batch_terms(extractor, net(batch), batch, grams)))
    arrays = {"batch": batch, "objective": json.dumps({"content_weight": 1.0, "style_weight": 1e-2, "tv_weight": 1e-3,
                                                        "content_layers": ["block1_conv2"],
                                                        "style_layer_weights": objective.style_layer_weights})}
    for layer in extractor.model.layers:
        if layer.weights:
            arrays[f"vgg/{layer.name}/kernel"], arrays[f"vgg/{layer.name}/bias"] = layer.get_weights()
    arrays.update({f"net/{i}": w for i, w in enumerate(net.get_weights())})
    arrays.update({f"gram/{k}": v for k, v in grams.items()})
    np.savez(tmp_path / "case.npz", **arrays)
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", _JAX_CHILD, str(tmp_path / "case.npz"), str(ROOT / "bench" / "jax_gpu.py")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["backend"] == "jax" and not got["tensorflow"]
    assert expected[1] > 0 and expected[2] > 0 and expected[3] > 0
    np.testing.assert_allclose(got["values"], expected, rtol=2e-4)


def test_relative_to_style_divides_by_the_style_targets_now_and_the_content_targets_per_batch():
    """A network's relative objective: the style layers' weights are divided by the size of the
    style Gram matrices once; each content error by its target's mean square, in every
    evaluation. For one fixed content target it is the Gatys objective of ``relative``."""
    plain = Objective(1.0, 7.0, 0.0, content_layers=("a",), style_layer_weights={"a": 0.5, "b": 0.5})
    feats, content, style_feats = _features(0, SHAPES), _features(1, SHAPES), _features(2, SHAPES)
    grams = {k: _gram(style_feats[k]).astype(np.float32) for k in ("a", "b")}
    picture = np.zeros((1, 4, 4, 3), np.float32)
    network = plain.relative_to_style(grams)
    assert network.content_relative and network.content_scales is None
    terms = network.terms(feats, content, grams, picture)
    expected_content = ((feats["a"] - content["a"]).astype(np.float64) ** 2).mean() / (content["a"].astype(np.float64) ** 2).mean()
    assert float(terms["content"]) == pytest.approx(expected_content, rel=1e-5)
    relative_gram_error = {k: ((_gram(feats[k]) - grams[k]) ** 2).sum() / (grams[k].astype(np.float64) ** 2).sum()
                           for k in ("a", "b")}
    assert float(terms["style"]) == pytest.approx(0.5 * sum(relative_gram_error.values()), rel=1e-4)
    gatys = plain.relative(content, grams)
    assert not gatys.content_relative
    same = gatys.terms(feats, content, grams, picture)
    for name in ("content", "style", "total"):
        assert float(same[name]) == pytest.approx(float(terms[name]), rel=1e-5), name
    doubled = network.terms(feats, {"a": 2 * content["a"]}, grams, picture)  # a brighter photo: its own scale
    expected = ((feats["a"] - 2 * content["a"]).astype(np.float64) ** 2).mean() / (4 * (content["a"].astype(np.float64) ** 2).mean())
    assert float(doubled["content"]) == pytest.approx(expected, rel=1e-5)
