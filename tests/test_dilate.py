"""Networks with dilated residual blocks (``build_transformer(dilations=)``, ``bench/dilate.py``)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from styletransfer_utils import feedforward as ff
from styletransfer_utils.errors import ModelError, SettingsError
from styletransfer_utils.feedforward.models import border_margin
from styletransfer_utils.feedforward.network import layer_table, network_dilations, with_precision

_spec = importlib.util.spec_from_file_location("dilate", Path(__file__).resolve().parents[1] / "bench" / "dilate.py")
dilate = sys.modules["dilate"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dilate)

RATES = (1, 2, 2, 2, 1)


@pytest.fixture(scope="module")
def dilated():
    return ff.build_transformer(half_width=True, seed=0, dilations=RATES)


def test_a_dilated_network_takes_every_size_the_plain_one_does(dilated, half_net):
    assert network_dilations(dilated) == RATES and network_dilations(half_net) == (1,) * 5
    for h, w in ((8, 8), (9, 13), (8, 40), (37, 23)):  # 8 px: a quarter-resolution map of 2, reflected to 3
        x = np.random.default_rng(h).uniform(0, 255, (1, h, w, 3)).astype(np.float32)
        assert dilated(x).shape == x.shape
    # the same weights, other taps: another picture from the same photo
    x = np.random.default_rng(0).uniform(0, 255, (1, 48, 64, 3)).astype(np.float32)
    plain = ff.build_transformer(half_width=True, seed=0)
    assert [w.shape for w in plain.get_weights()] == [w.shape for w in dilated.get_weights()]
    plain.set_weights(dilated.get_weights())
    assert np.abs(np.asarray(plain(x)) - np.asarray(dilated(x))).mean() > 0.5
    assert [row["kind"] for row in layer_table(dilated) if row["layer"] == "res2a"] == [
        "conv 3x3, dilation 2, reflection padding"]
    assert half_net.get_layer("pad_to_multiple").get_config().get("minimum") is None  # plain files stay as they were


@pytest.mark.parametrize("bad", [(1, 2, 3, 2, 1), (1, 2), "12221", (1, 2, 2, 2, True), (0, 1, 1, 1, 1)])
def test_dilations_are_checked(bad):
    with pytest.raises(SettingsError, match="give 5 rates, each of 1 or 2"):
        ff.build_transformer(dilations=bad)


def test_a_dilated_network_keeps_its_dilations_through_a_file_and_a_precision(tmp_path, dilated, half_net):
    x = np.random.default_rng(1).uniform(0, 255, (1, 40, 52, 3)).astype(np.float32)
    loaded = ff.load_model(ff.save_model(dilated, tmp_path / "d.keras"))
    assert network_dilations(loaded) == RATES and np.allclose(loaded(x), dilated(x), atol=1e-3)
    twin = with_precision(loaded, "mixed_bfloat16")  # rebuilt from the builder: the dilations must go along
    assert twin is not loaded and network_dilations(twin) == RATES
    assert np.allclose(with_precision(twin, "float32")(x), dilated(x), atol=1e-3)
    assert border_margin(loaded) == border_margin(half_net) + 4 == 16  # fast's margin reaches 4 px further
    painted = ff.stylize_fast(loaded, x[0])  # inside fast's margin, at a size that divides by nothing
    assert painted.shape == x[0].shape and np.isfinite(painted).all()
    with pytest.raises(ModelError, match="cannot keep the network's dilated residual blocks; save it as NAME.keras"):
        ff.save_model(dilated, tmp_path / "d.weights.h5")
    assert not (tmp_path / "d.weights.h5").exists()


def test_a_network_trained_from_a_dilated_one_is_dilated(tmp_path, photos, style_file, vgg_weights):
    start = tmp_path / "start.keras"
    plain = ff.load_model("starry_night")  # a network without dilations, made into one with them
    assert network_dilations(plain) == (1,) * 5
    assert dilate.main(["starry_night", "--dilations", "1,2,2,2,1", "-o", str(start)]) == 0
    source = ff.load_model(start)
    assert network_dilations(source) == RATES
    assert all(np.array_equal(a, b) for a, b in zip(source.get_weights(), plain.get_weights()))
    settings = ff.TrainSettings(steps=2, batch_size=1, crop_size=32, style_size=64, checkpoint_every=0,
                                preview_every=0, seed=0, init=str(start), time_limit=0)
    trainer = ff.Trainer(style_file, photos, settings)
    try:
        assert network_dilations(trainer.model) == RATES
        result = trainer.run()
        trainer.save(tmp_path / "ft.keras", result, style=str(style_file), data=str(photos))
    finally:
        trainer.close()
    assert network_dilations(ff.load_model(tmp_path / "ft.keras")) == RATES
    assert ff.records.read_record(tmp_path / "ft.keras")["dilations"] == list(RATES)


def test_dilate_refuses_bad_rates_in_one_line(tmp_path, capsys):
    assert dilate.main(["the_scream", "--dilations", "1,2,4,2,1", "-o", str(tmp_path / "x.keras")]) == 2
    assert "dilations is (1, 2, 4, 2, 1); give 5 rates, each of 1 or 2" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        dilate.main(["the_scream", "--dilations", "1,two", "-o", str(tmp_path / "x.keras")])
    assert "not a list of whole numbers" in capsys.readouterr().err
    assert not (tmp_path / "x.keras").exists()
