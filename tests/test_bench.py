"""The scripts in bench/: loaded as modules and run on tiny inputs, without a GPU.

bench/jax_gpu.py imports no JAX until its 'run' needs it, so its 'prepare' side, its error
messages and its 'record' command are tested here on TensorFlow.
"""

import json

import numpy as np
import pytest

from helpers import TINY
from styletransfer_utils import feedforward as ff

# -- bench/jax_gpu.py -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jax_gpu():
    """bench/jax_gpu.py as a module (it imports no JAX until its 'run' needs it)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "jax_gpu.py"
    spec = importlib.util.spec_from_file_location("jax_gpu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("scales", [(1,), (1, 2)])
def test_the_gpu_scripts_stateless_step_matches_the_trainer(jax_gpu, photos, style_file, vgg_weights, scales):
    """bench/jax_gpu.py trains on Keras' JAX backend by calling the network and VGG19
    statelessly around the package's Objective; on this (TensorFlow) backend that glue must give
    the trainer's four terms for the same batch (tests/test_objective.py runs it on JAX), with the
    objective built from the bundle's Gram matrices (relative to the style, as the trainer's), at
    one size or at several (style_scales)."""
    trainer = ff.Trainer(style_file, photos, ff.TrainSettings(steps=1, **{**TINY, "style_weight": 1e-2},
                                                              style_scales=scales))
    trainer.run()  # trained a step: not the initial weights
    batch = trainer.next_batch()
    bundle = {f"shipwreck/{layer}": np.asarray(gram)[0] for layer, gram in trainer.style_grams.items()}
    bundle.update({f"shipwreck/x{factor}/{layer}": np.asarray(gram)[0]
                   for factor, grams in trainer.shrunk_grams.items() for layer, gram in grams.items()})
    objective, grams = jax_gpu.training_objective(trainer.settings, "shipwreck", bundle)  # as the script builds it
    shrunk = jax_gpu.shrunk_targets(trainer.settings, "shipwreck", bundle)
    assert (shrunk is None) == (scales == (1,))
    terms = jax_gpu.make_losses(trainer.model, trainer.extractor, objective, shrunk)
    variables = lambda m: ([v.value for v in m.trainable_variables], [v.value for v in m.non_trainable_variables])  # noqa: E731
    total, got = terms(variables(trainer.model), variables(trainer.extractor.model), batch, grams)
    expected = np.asarray(trainer.losses(batch))
    assert expected[1] > 0 and expected[2] > 0 and expected[3] > 0
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)
    assert float(total) == pytest.approx(expected[0], rel=1e-5)


def test_the_gpu_script_fails_with_one_line(jax_gpu, tmp_path, monkeypatch):
    from styletransfer_utils.errors import ImageError

    def unreachable_style(*args):
        raise ImageError("cannot fetch example 'shipwreck'; connect to the internet once")

    monkeypatch.setattr(jax_gpu, "prepare", unreachable_style)
    monkeypatch.setattr("sys.argv", ["jax_gpu.py", "prepare", str(tmp_path / "bundle")])
    with pytest.raises(SystemExit, match=r"^error: cannot fetch example 'shipwreck'; connect") as caught:
        jax_gpu.main()
    assert "\n" not in str(caught.value)
    monkeypatch.setattr("sys.argv", ["jax_gpu.py", "run", str(tmp_path / "nothing"), "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit, match=r"^error: no bundle in .*nothing: make one with"):
        jax_gpu.main()


def _gpu_run(folder, steps, batch, seconds, learning_rate, args, net=None, old=False):
    """A results.json as bench/jax_gpu.py run writes it (``old``: as runs wrote it before 'record')."""
    folder.mkdir(parents=True)
    losses = {"total": 2.0, "content": 1.0, "style": 4e3, "tv": 0.2}
    run = {"style": "shipwreck", "init": args.get("init"), "steps": steps, "batch_size": batch,
           "images_seen": steps * batch, "seconds": seconds, "compile_seconds": 5.0,
           "images_per_second": steps * batch / seconds, "final_losses_mean_of_last_500_steps": losses,
           "settings": {**ff.records.settings_dict(ff.TrainSettings(half_width=True, seed=0, learning_rate=learning_rate)),
                        "steps": steps, "batch_size": batch, "precision": "mixed_bfloat16"},
           "history": [{"step": s, "seconds": s * seconds / steps, **losses} for s in range(100, steps + 1, 100)]}
    results = {"machine": {"devices": ["cuda:0"], "cpus": 16, "gpu": ["NVIDIA H200"]},
               "versions": {"python": "3.12.3", "jax": "0.11.2", "keras": "3.15.1", "backend": "jax"},
               "date": "2026-11-26", "data": "../shared/datasets/imagenet-samples", "pictures": 1000,
               "skipped": 0, "args": args, "train": {"shipwreck": run}}
    if old:
        del results["data"], results["pictures"], results["skipped"], results["args"], run["style"]
        results["machine"].pop("gpu")
    (folder / "results.json").write_text(json.dumps(results))
    if net is not None:
        ff.save_model(net, folder / "shipwreck.keras")
    return folder


def test_the_gpu_script_records_its_runs(jax_gpu, tmp_path, half_net):
    """'record' turns the runs that trained a network into its NAME.json, as styletransfer train
    writes one: phases, history counted on across runs, and the commands that repeat them."""
    args = {"train_seconds": 110.0, "batch_size": 8, "init": None, "learning_rate": None}
    first = _gpu_run(tmp_path / "a", 300, 8, 110.0, 1e-3, args)
    second = _gpu_run(tmp_path / "b", 200, 16, 45.0, 1e-4, {**args, "train_seconds": 45.0, "batch_size": 16,
                                                             "init": str(first), "learning_rate": 1e-4}, half_net)
    jax_gpu.record([first, second], tmp_path / "models", None, [])
    record = json.loads((tmp_path / "models" / "shipwreck.json").read_text())
    assert record["command"] == (
        "python bench/jax_gpu.py prepare BUNDLE && KERAS_BACKEND=jax python bench/jax_gpu.py run BUNDLE --out OUT "
        "--styles shipwreck --batch-size 8 --train-seconds 110 --no-tables && KERAS_BACKEND=jax python "
        "bench/jax_gpu.py run BUNDLE --out OUT2 --styles shipwreck --batch-size 16 --init OUT --learning-rate 1e-4 "
        "--train-seconds 45 --no-tables")
    assert (record["steps"], record["images_seen"], record["total_seconds"]) == (500, 300 * 8 + 200 * 16, 155.0)
    assert [h["step"] for h in record["history"]] == [100, 200, 300, 400, 500]
    assert record["history"][3]["seconds"] == pytest.approx(110 + 22.5)
    assert [(p["learning_rate"], p["batch_size"]) for p in record["phases"]] == [(1e-3, 8), (1e-4, 16)]
    assert record["machine"]["processor"] == "NVIDIA H200 GPU (Keras on JAX)" and record["style"] == "shipwreck"
    settings = ff.records.record_settings(record)
    assert (settings.steps, settings.learning_rate, settings.batch_size) == (500, 1e-3, 16)
    assert ff.network.is_half_width(ff.load_model(tmp_path / "models" / "shipwreck.keras"))

    # a later run (an older script's results.json) goes on from that record
    third = _gpu_run(tmp_path / "c", 100, 16, 20.0, 1e-3, {}, half_net, old=True)
    with pytest.raises(SystemExit, match="do not say style, data, pictures, machine.*--onto"):
        jax_gpu.record([third], tmp_path / "nowhere", None, [])
    jax_gpu.record([third], tmp_path / "more", tmp_path / "models", [])
    more = json.loads((tmp_path / "more" / "shipwreck.json").read_text())
    assert more["command"] == record["command"] + (
        " && KERAS_BACKEND=jax python bench/jax_gpu.py run BUNDLE --out OUT3 --styles shipwreck --batch-size 16 "
        "--init OUT2 --learning-rate 1e-3 --train-seconds 20 --no-tables")
    assert (more["steps"], more["total_seconds"], len(more["phases"])) == (600, 175.0, 3)
    assert more["history"][-1]["step"] == 600 and more["machine"] == record["machine"]
    assert more["data"] == record["data"] and more["phases"][2]["init"] == "phase 2's network, a fresh Adam"


# -- bench/control.py --------------------------------------------------------------------------


def test_the_controls_benchmark_prints_its_table(vgg_weights, capsys, monkeypatch):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "control.py"
    monkeypatch.setattr("sys.argv", [str(script), "--size", "64", "--precision", "float32"])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    for line in ("no mask (1 style)", "1 mask (1 style)", "2 masks (2 styles)", "preserve_colors=luminance"):
        assert line in out, out


@pytest.mark.slow
def test_the_variants_benchmark_runs_each_variant(vgg_weights, capsys, monkeypatch, tmp_path):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "variants.py"
    monkeypatch.setattr("sys.argv", [str(script), "--size", "48", "--steps", "6", "--w2-weights", "15",
                                     "--variants", "default,w2,adam-avg,gradnorm", "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    for variant in ("default", "w2 sw=15", "adam-avg", "gradnorm"):
        assert f"starry_night   {variant}" in out, out
    assert (tmp_path / "contact_sheet.png").is_file()


# -- bench/quality.py --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_quality_benchmark_runs_a_style_loss_recipe_and_scores_it_four_ways(vgg_weights, capsys, monkeypatch,
                                                                                 tmp_path):
    """One recipe of ``--losses`` (a fresh process of the command), scored by the style, content,
    loss-neutral sliced and pasted scores, with its contact sheet."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "quality.py"
    monkeypatch.setattr("sys.argv", [str(script), "--recipes", "meanstd", "--paintings", "starry_night", "--size", "48",
                                     "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "style  content  sliced  pasted" in out, out
    rows = json.loads(next(tmp_path.glob("results_*.json")).read_text())
    assert [(r["recipe"], r["options"]) for r in rows] == [("meanstd", ["--content-layers", "conv4_2", "--style-layer-weights",
                                                                      "1,1,1,1,1", "--style-weight", "7", "--style-loss",
                                                                      "meanstd"])]
    assert all(0 < r["sliced"] < 2 and 0 < r["style"] for r in rows) and (tmp_path / "contact_sheet.png").is_file()


def test_the_quality_benchmark_names_an_unknown_recipe(capsys, monkeypatch):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "bench" / "quality.py"
    monkeypatch.setattr("sys.argv", [str(script), "--recipes", "default,bogus"])
    with pytest.raises(SystemExit):
        runpy.run_path(str(script), run_name="__main__")
    assert "no recipe 'bogus'" in capsys.readouterr().err


# -- bench/network_quality.py ------------------------------------------------------------------


@pytest.mark.slow
def test_the_network_quality_benchmark_breaks_the_style_error_down(vgg_weights, capsys, monkeypatch, tmp_path):
    """A shipped network against the Gatys picture on one held-out photo and one of its training
    photos, with ``--by-layer``: the ratios, the style error by evaluation size and by layer beside
    Gatys', the rows and the sheet in ``--out``."""
    import runpy
    from pathlib import Path

    from styletransfer_utils.measure.quality import EVAL_SIZES, STYLE_LAYERS

    script = Path(__file__).resolve().parents[1] / "bench" / "network_quality.py"
    monkeypatch.setattr("sys.argv", [str(script), "--models", "the_scream", "--sizes", "96", "--by-layer",
                                     "--training-photos", "1", "--gatys-steps", "30", "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    rows = json.loads((tmp_path / "network_quality.json").read_text())
    assert [(r["method"], r["trained_on"]) for r in rows] == [
        ("Gatys (default)", False), ("network", False), ("Gatys (default)", True), ("network", True)]
    training_photo = rows[2]["photo"]
    training_folder = Path(script).parents[1] / ff.read_record("the_scream")["data"]
    assert training_photo in {p.name for p in ff.find_pictures(training_folder)}
    assert f"{training_photo} (trained on)" in out and out.count("(trained on)") == 1, out
    gatys, network = rows[:2]
    assert network["style_ratio"] == pytest.approx(network["style"] / gatys["style"])
    for row in rows:  # the breakdown is what the style score is the mean of
        assert row["style"] == pytest.approx(np.mean(list(row["style_by_size"].values())))
        assert row["style"] == pytest.approx(np.mean(list(row["style_by_layer"].values())))
        assert list(row["style_by_layer"]) == list(STYLE_LAYERS)
    assert out.count("by size: ") == 4 and out.count("by layer: ") == 4, out
    # the network's lines carry Gatys' numbers in brackets; Gatys' own lines do not
    first_size = EVAL_SIZES[0]
    assert f"{first_size} px {network['style_by_size'][str(first_size)]:.3f} " \
           f"({gatys['style_by_size'][str(first_size)]:.3f})" in out, out
    assert f"conv5_1 {gatys['style_by_layer']['block5_conv1']:.3f}\n" in out, out
    assert (tmp_path / "contact_sheet.png").is_file()

    # --reference: the same run again takes its Gatys pictures from the first one's folder, makes none
    def no_gatys_run(*args, **kwargs):
        raise AssertionError("--reference made a Gatys picture anew")

    monkeypatch.setattr("styletransfer_utils.gatys.stylize", no_gatys_run)
    again = tmp_path / "again"
    monkeypatch.setattr("sys.argv", [str(script), "--models", "the_scream", "--sizes", "96", "--training-photos",
                                     "1", "--reference", str(tmp_path), "--out", str(again)])
    runpy.run_path(str(script), run_name="__main__")
    capsys.readouterr()
    reused = json.loads((again / "network_quality.json").read_text())
    assert [(r["method"], r["photo"]) for r in reused] == [(r["method"], r["photo"]) for r in rows]
    for first, second in zip(rows, reused):  # the saved picture is rounded to whole levels
        if first["method"] == "Gatys (default)":
            assert second["seconds"] == first["seconds"]
        assert second["style"] == pytest.approx(first["style"], rel=0.02)
        assert second["style_ratio"] == pytest.approx(first["style_ratio"], rel=0.02)
    # a folder without the rows is refused with one line
    monkeypatch.setattr("sys.argv", [str(script), "--models", "the_scream", "--sizes", "96",
                                     "--reference", str(tmp_path / "nothing"), "--out", str(again)])
    with pytest.raises(SystemExit, match="no network_quality.json there"):
        runpy.run_path(str(script), run_name="__main__")


# -- bench/feedforward.py ----------------------------------------------------------------------


@pytest.mark.slow
def test_the_network_speed_benchmark_prints_its_inference_and_training_tables(vgg_weights, photos, capsys,
                                                                               monkeypatch, tmp_path):
    """Its two speed tables on a tiny size, in one run: the shipped network, a quarter-width network
    file (labelled as such) and an untrained full-width one in each precision, ``fast`` with the
    spikes clipped and kept, each figure the median of ``--rounds 2`` with their range; and the
    training rates at both widths (the full width starts from random weights: the default start is
    half width)."""
    import re
    import runpy
    from pathlib import Path

    from styletransfer_utils.device import resolve_precision

    quarter = ff.save_model(ff.build_transformer(width="quarter", seed=0), tmp_path / "q.keras")
    script = Path(__file__).resolve().parents[1] / "bench" / "feedforward.py"
    monkeypatch.setattr("sys.argv", [str(script), "--models", f"the_scream,{quarter}", "--sizes", "64",
                                     "--repeat", "1", "--rounds", "2", "--data", str(photos), "--train-crop", "64",
                                     "--train-batch", "1", "--train-steps", "1", "--no-compare"])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "median of 2 rounds" in out and "(round 2 of 2 done)" in out, out
    precisions = ["float32"] + ([resolve_precision("auto")] if resolve_precision("auto") != "float32" else [])
    cell = r"\s+(\d+\.\d) \((\d+)-(\d+)\)$"
    rows = [(label, precision) for label in ("the_scream (half)", "q (quarter)", "full width (untrained)")
            for precision in precisions]
    rows += [(f"{name}, {what}", precisions[-1])  # fast's own precision
             for name in ("the_scream", "q") for what in ("as fast runs", "spikes kept")]
    for label, precision in rows:
        row = re.search(rf"^{re.escape(label)}\s+{precision}{cell}", out, re.M)
        assert row, (label, precision, out)
        median, low, high = float(row.group(1)), int(row.group(2)), int(row.group(3))
        assert low - 1 <= median <= high + 1
    for width in ("half", "full"):
        for precision in precisions:
            rate = re.search(rf"^{width}\s+{precision}\s+(\d+\.\d+) img/s$", out, re.M)
            assert rate and float(rate.group(1)) > 0, out


# -- bench/xnnpack.py --------------------------------------------------------------------------


def test_the_xnnpack_probe_paints_what_tensorflow_paints(capsys):
    """The network converted for TensorFlow Lite paints TensorFlow's picture to within a hundredth of a
    level at two sizes, and the layers' converter forms are undone after the conversion."""
    import importlib.util
    from pathlib import Path

    from styletransfer_utils.feedforward import layers

    path = Path(__file__).resolve().parents[1] / "bench" / "xnnpack.py"
    spec = importlib.util.spec_from_file_location("xnnpack", path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    fused, pad = layers._one_tensorflow_picture, layers.ReflectPadToMultiple.call
    rows = probe.main(["--models", "the_scream", "--sizes", "64,96", "--repeat", "1"])
    assert (layers._one_tensorflow_picture, layers.ReflectPadToMultiple.call) == (fused, pad)
    assert {(r["size"], r["runtime"]) for r in rows} == {
        (s, runtime) for s in (64, 96) for runtime in ("TensorFlow", "Lite", "Lite, sizes in turn")}
    assert all(r["max_diff"] < 0.01 for r in rows), rows
    assert all(r["median_ms"] > 0 for r in rows)
    out = capsys.readouterr().out
    assert "the_scream: converted in" in out and "TensorFlow's first call" in out, out
