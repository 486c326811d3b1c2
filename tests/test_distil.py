"""The network's widths, and the distillation experiment into a quarter-width one (``bench/distil.py``)."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import synthetic_photo
from styletransfer_utils import feedforward as ff
from styletransfer_utils.errors import DataError, SettingsError
from styletransfer_utils.feedforward.network import network_width, with_precision

_spec = importlib.util.spec_from_file_location("distil", Path(__file__).resolve().parents[1] / "bench" / "distil.py")
dl = sys.modules["distil"] = importlib.util.module_from_spec(_spec)  # its dataclasses look themselves up there
_spec.loader.exec_module(dl)


@pytest.fixture
def big_photos(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(synthetic_photo(96, 128, i)).save(folder / f"p{i}.jpg")
    return folder


@pytest.fixture
def teacher_file(tmp_path, half_net):
    return ff.save_model(half_net, tmp_path / "teacher.keras")


def test_the_three_widths_and_their_names():
    assert [ff.build_transformer(width=w).get_layer(n).filters
            for w, n in (("full", "res1a"), ("half", "res1a"), ("quarter", "res1a"))] == [128, 64, 32]
    quarter = ff.build_transformer(width="quarter", seed=0)
    assert quarter.name == "transformer_quarter" and network_width(quarter) == "quarter"
    assert ff.build_transformer(half_width=True, width="quarter").name == "transformer_quarter"  # width wins
    twin = with_precision(quarter, "mixed_bfloat16")
    assert network_width(twin) == "quarter"
    x = np.random.default_rng(0).uniform(0, 255, (1, 40, 48, 3)).astype(np.float32)
    assert np.allclose(with_precision(twin, "float32")(x), quarter(x), atol=1e-3)
    with pytest.raises(SettingsError, match="width is 'tiny'"):
        ff.build_transformer(width="tiny")


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_a_quarter_width_file_loads_as_one(tmp_path, suffix):
    quarter = ff.build_transformer(width="quarter", seed=1)
    loaded = ff.load_model(ff.save_model(quarter, tmp_path / f"q{suffix}"))
    assert network_width(loaded) == "quarter"
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    assert np.allclose(loaded(x), quarter(x), atol=1e-3)


def test_the_loss_leaves_out_the_edges_and_weighs_pixel_steps():
    painted = np.zeros((1, 64, 64, 3), np.float32)
    edge = painted.copy()
    edge[:, :dl.EDGE] = 200.0  # only inside the left-out band
    assert float(dl.distil_loss(edge, painted)) == 0.0
    flat, stripes = painted.copy(), painted.copy()
    flat[:] = 2.0
    stripes[:, :, ::2] = 4.0  # the same mean error, but drawn as stripes the teacher did not paint
    assert float(dl.distil_loss(flat, painted)) == pytest.approx(2.0)
    assert float(dl.distil_loss(stripes, painted)) == pytest.approx(2.0 + 4.0)  # + its steps across


def test_the_student_learns_the_teachers_pictures(big_photos, teacher_file):
    teacher = ff.load_model(teacher_file)
    pictures = dl.teacher_pictures(teacher, big_photos, count=3)
    assert len(pictures.photos) == 3 and pictures.photos[0].shape == pictures.painted[0].shape == (96, 128, 3)
    assert np.abs(pictures.painted[0].astype(float) - ff.stylize_fast(teacher, pictures.photos[0].astype(np.float32),
                                                                      paint_size=None)).max() <= 0.5
    distiller = dl.Distiller(pictures, steps=60, batch_size=2, crop_size=64, learning_rate=5e-3, precision="float32")
    before = float(np.mean([dl.distil_loss(distiller.student(p), t) for p, t in [distiller.batch() for _ in range(4)]]))
    assert distiller.run() is True and distiller.step == 60
    after = float(np.mean([dl.distil_loss(distiller.student(p), t) for p, t in [distiller.batch() for _ in range(4)]]))
    assert after < 0.8 * before, (before, after)
    assert distiller.rate(0) == pytest.approx(5e-3) and distiller.rate(60) == pytest.approx(0.0)


def test_crops_larger_than_every_photo_are_a_clear_error(big_photos, teacher_file):
    pictures = dl.teacher_pictures(ff.load_model(teacher_file), big_photos, count=2)
    with pytest.raises(DataError, match="no photo is 128 px"):
        dl.Distiller(pictures, crop_size=128)


def test_distil_writes_a_quarter_network_and_its_record(tmp_path, big_photos, teacher_file, capsys):
    out = tmp_path / "small.keras"
    code = dl.main([str(teacher_file), "--data", str(big_photos), "-o", str(out), "--steps", "3",
                    "--photos", "2", "--batch-size", "1", "--crop-size", "64"])
    assert code == 0, capsys.readouterr().err
    student = ff.load_model(out)
    assert network_width(student) == "quarter"
    record = json.loads((tmp_path / "small.json").read_text())
    d = record["distillation"]
    assert record["model"] == "small.keras" and d["teacher"] == str(teacher_file) and d["teacher_width"] == "half"
    assert (d["steps"], d["photos"], d["batch_size"], d["crop_size"]) == (3, 2, 1, 64)
    assert d["command"].startswith("python bench/distil.py ")
    assert set(record["spike_statistics"]) == {layer.name for layer in ff.network.deep_norms(student)}
    assert hasattr(ff.load_model(out), "_styletransfer_spikes")  # fast clips its spikes in one pass
    assert ff.stylize_fast(out, synthetic_photo(50, 60, 3).astype(np.float32)).shape == (50, 60, 3)


def test_a_shipped_teachers_record_comes_along(tmp_path, big_photos, capsys):
    out = tmp_path / "scream_q.keras"
    assert dl.main(["the_scream", "--data", str(big_photos), "-o", str(out), "--steps", "1",
                    "--photos", "1", "--batch-size", "1", "--crop-size", "64"]) == 0
    record = ff.read_record(out)
    assert record["style"] == "the_scream" and record["settings"] == ff.read_record("the_scream")["settings"]
    assert ff.records.trained_paint_size(out) == ff.records.trained_paint_size("the_scream")


def test_ctrl_c_writes_the_network_so_far(tmp_path, big_photos, teacher_file):
    def stop_at_two(progress):
        if progress.loss is not None and progress.step == 2:
            raise KeyboardInterrupt

    out = tmp_path / "cut.keras"
    result = dl.distil(teacher_file, big_photos, out, steps=50, photos=2, batch_size=1, crop_size=64,
                       callbacks=[stop_at_two])
    assert not result.finished and result.steps == 2 and out.is_file()
    record = ff.read_record(out)
    assert record["distillation"]["steps"] == 2 and record["distillation"]["steps_asked"] == 50
    assert "spike_statistics" not in record  # measured only on a finished network


@pytest.mark.parametrize("extra, words", [
    (["--steps", "0"], "steps is 0"),
    (["--learning-rate", "-1"], "learning_rate is -1.0"),
    (["--crop-size", "1024"], "crop_size 1024 is larger than the pictures (512 px"),
])
def test_distil_bad_settings_are_one_line(tmp_path, big_photos, teacher_file, capsys, extra, words):
    assert dl.main([str(teacher_file), "--data", str(big_photos), "-o", str(tmp_path / "x.keras"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err, err


def test_distil_refuses_a_quarter_teacher_and_an_empty_folder(tmp_path, big_photos, capsys):
    quarter = ff.save_model(ff.build_transformer(width="quarter"), tmp_path / "q.keras")
    with pytest.raises(SettingsError, match="already a quarter-width network"):
        dl.distil(quarter, big_photos, tmp_path / "x.keras")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no JPEG or PNG pictures in"):
        dl.distil("the_scream", empty, tmp_path / "x.keras")


def test_a_distilled_network_fine_tunes_at_its_own_width(tmp_path, photos, style_file, vgg_weights):
    quarter = ff.build_transformer(width="quarter", seed=3)
    path = ff.save_model(quarter, tmp_path / "q.keras")
    settings = ff.TrainSettings(steps=2, batch_size=1, crop_size=32, style_size=64, checkpoint_every=0,
                                preview_every=0, seed=0, init=str(path), time_limit=0)
    trainer = ff.Trainer(style_file, photos, settings)
    try:
        assert network_width(trainer.model) == "quarter"  # whatever --half-width says
        assert all(np.array_equal(a, b) for a, b in zip(trainer.model.get_weights(), quarter.get_weights()))
        result = trainer.run()
        assert not all(np.array_equal(a, b) for a, b in zip(trainer.model.get_weights(), quarter.get_weights()))
        trainer.save(tmp_path / "ft.keras", result, style=str(style_file), data=str(photos))
        record = ff.records.read_record(tmp_path / "ft.keras")
        assert record["width"] == "quarter" and record["settings"]["half_width"] is True  # the width, not the flag
    finally:
        trainer.close()
