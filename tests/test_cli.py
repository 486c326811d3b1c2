"""The ``styletransfer`` command: answers to bad input, and real (tiny) runs."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from helpers import assert_one_line_error, make_bad_picture
from styletransfer_utils.cli import main

FAST = ["--size", "64", "--steps", "4", "--precision", "float32", "-q"]


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(0)
    content, style = tmp_path / "content.png", tmp_path / "style.jpg"
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(content)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(style)
    return content, style


@pytest.mark.parametrize("kind, words", [
    ("missing", ["no such file"]),
    ("text", ["not a picture"]),
    ("empty", ["empty"]),
    ("truncated", ["truncated"]),
    ("tiny", ["1x1", "at least"]),
    ("bomb", ["pixels"]),
])
def test_bad_content_picture(capsys, tmp_path, pictures, kind, words):
    bad = make_bad_picture(tmp_path, kind)
    assert_one_line_error(capsys, [str(bad), str(pictures[1]), "-o", str(tmp_path / "o.png"), *FAST], *words)


def test_bad_style_picture(capsys, tmp_path, pictures):
    assert_one_line_error(capsys, [str(pictures[0]), str(make_bad_picture(tmp_path, "text")), "-o", str(tmp_path / "o.png")],
                    "not a picture")


@pytest.mark.parametrize("options, words", [
    (["--style-layers", "conv1_1,conv9_1"], ["unknown VGG19 layer 'conv9_1'"]),
    (["--content-layers", "fc6"], ["unknown VGG19 layer"]),
    (["--style-weight", "-1"], ["--style-weight is -1.0", ">= 0"]),
    (["--content-weight", "nan"], ["--content-weight is nan"]),
    (["--tv-weight", "inf"], ["--tv-weight is inf"]),
    (["--size", "5"], ["--size is 5"]),
    (["--optimizer", "sgd"], ["optimizer"]),
    (["--style-blend-weights", "1,2"], ["2 style blend weights for 1 style images"]),
    (["--style-layer-weights", "a,b"], ["comma-separated numbers"]),
    (["--style-loss", "bogus"], ["--style-loss is 'bogus'", "gram, meanstd, w2, histogram, sliced"]),
])
def test_bad_options(capsys, tmp_path, pictures, options, words, vgg_weights):
    assert_one_line_error(capsys, [str(pictures[0]), str(pictures[1]), "-o", str(tmp_path / "o.png"), *options], *words)


@pytest.mark.parametrize("where, words", [("nodir", "does not exist"), ("ext", "cannot write .gif pictures"),
                                          ("none", "cannot tell the format"), ("folder", "is a folder"),
                                          ("readonly", "cannot write")])
def test_unwritable_output(capsys, tmp_path, pictures, where, words):
    out = {"nodir": tmp_path / "no" / "o.png", "ext": tmp_path / "o.gif", "none": tmp_path / "o",
           "folder": tmp_path, "readonly": "/sys/o.png" if os.geteuid() == 0 else "/o.png"}[where]
    assert_one_line_error(capsys, [str(pictures[0]), str(pictures[1]), "-o", str(out)], words)


def test_names_that_are_neither_files_nor_examples(capsys, tmp_path, pictures, monkeypatch):
    out = str(tmp_path / "o.png")
    assert_one_line_error(capsys, [str(pictures[0]), "nosuchstyle", "-o", out], "no such file or example picture",
                          "styletransfer examples")
    assert_one_line_error(capsys, ["trian", "starry_night", "--data", "x", "-o", out], "did you mean 'styletransfer train'")
    assert_one_line_error(capsys, [str(pictures[0]), str(pictures[1]), "-o", out, "--init", str(tmp_path)], "is a folder")
    # a folder called like a command does not hide the command
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    assert main(["examples"]) == 0 and "starry_night" in capsys.readouterr().out


def test_every_command_has_help(capsys):
    for command in (["--help"], ["demo", "--help"], ["examples", "--help"], ["train", "--help"], ["fast", "--help"],
                    ["exercises", "--help"]):
        assert main(command) == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: styletransfer"), command
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"styletransfer {c}" in out for c in ("train", "fast", "demo", "examples", "exercises")), out


def test_missing_arguments_exit_2(capsys):
    assert main([]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_run_writes_picture(tmp_path, pictures, vgg_weights, capsys):
    out = tmp_path / "out.png"
    assert main([str(pictures[0]), str(pictures[1]), str(pictures[1]), "-o", str(out), *FAST,
                 "--style-blend-weights", "1,1", "--save-every", "2"]) == 0
    assert Image.open(out).size == (64, 48)
    assert (tmp_path / "out_step00002.png").exists() and (tmp_path / "out_step00004.png").exists()


def test_style_loss_option_reaches_the_run(tmp_path, pictures, vgg_weights, capsys, monkeypatch):
    from styletransfer_utils.gatys import run

    seen, real = [], run.stylize
    monkeypatch.setattr(run, "stylize", lambda *a, **k: seen.append(a[2].style_loss) or real(*a, **k))
    out = tmp_path / "out.png"
    assert main([str(pictures[0]), str(pictures[1]), "-o", str(out), *FAST, "--style-loss", "sliced", "--seed", "3",
                 "--style-layers", "conv1_1,conv2_1", "--content-layers", "conv2_2"]) == 0
    assert seen == ["sliced"] and Image.open(out).size == (64, 48)


def test_examples_lists_catalogue(capsys):
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert "tubingen" in out and "starry_night" in out


def _run_cli(args, **kwargs):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "styletransfer_utils.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_ctrl_c_as_in_a_terminal, **kwargs)


def _ctrl_c_as_in_a_terminal():
    # a shell starts background jobs (`pytest &`, a CI runner) with SIGINT ignored, and Python
    # keeps it ignored; the command under test should see Ctrl-C as it does in a terminal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_demo_runs_offline_with_shipped_pictures(tmp_path, vgg_weights):
    # an empty datasets cache and no network: the demo falls back to pictures it can always make
    home = tmp_path / "keras"
    (home / "models").mkdir(parents=True)
    os.symlink(vgg_weights, home / "models" / vgg_weights.name)
    out = tmp_path / "demo.png"
    env = {**os.environ, "KERAS_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3",
           "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    done = subprocess.run([sys.executable, "-m", "styletransfer_utils.cli", "demo", "-o", str(out),
                           "--size", "64", "--steps", "3"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "generated swirl" in done.stderr
    assert Image.open(out).size[0] == 64


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_saves_best_picture(tmp_path, pictures, vgg_weights, sig):
    out = tmp_path / "out.png"
    proc = _run_cli([str(pictures[0]), str(pictures[1]), "-o", str(out), "--size", "64", "--steps", "100000",
                     "--precision", "float32"])
    deadline = time.time() + 120
    line = ""
    while time.time() < deadline and "step" not in line:  # wait until the progress bar moves
        line = proc.stderr.read(200) if proc.poll() is None else "step"
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "saved the best picture so far" in err
    assert Image.open(out).size == (64, 48)


def test_a_signal_is_noted_during_a_run_and_raised_at_its_next_step():
    """The handler never raises inside a run (it could leave a library's lock held and hang the
    exit); the run's own callback does, after the step. Outside a run, or twice, it raises."""
    from styletransfer_utils.terminal import StopRequest

    stop = StopRequest()
    with pytest.raises(KeyboardInterrupt):
        stop.handler()
    with stop.run():
        stop(None)  # nothing asked for: the run goes on
        stop.handler()  # Ctrl-C: noted only
        with pytest.raises(KeyboardInterrupt):
            stop(None)
        with pytest.raises(KeyboardInterrupt):
            stop.handler()  # a second Ctrl-C: at once
    assert not stop.running
    with stop.run():
        stop(None)  # a new run starts without the old request


def test_a_run_asked_to_stop_saves_its_best_picture(tmp_path, pictures, vgg_weights, capsys, monkeypatch):
    from styletransfer_utils import cli

    steps = []

    def bar(self, progress):  # Ctrl-C arrives during step 3
        steps.append(progress.step)
        if progress.step == 3:
            cli.STOP.handler()

    monkeypatch.setattr(cli.ProgressBar, "__call__", bar)
    out = tmp_path / "out.png"
    code = main([str(pictures[0]), str(pictures[1]), "-o", str(out), "--size", "48", "--steps", "50",
                 "--precision", "float32"])
    assert code == 130 and steps == [1, 2, 3]
    assert "interrupted after 3 steps; saved the best picture so far" in capsys.readouterr().err
    assert Image.open(out).size == (48, 36)


def test_tensorflow_start_up_lines_stay_out_of_the_terminal():
    code = ("from styletransfer_utils.device import import_tensorflow_quietly; import_tensorflow_quietly(); "
            "import tensorflow as tf; tf.constant(1.0)")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # the package's default
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "oneDNN" not in done.stderr and "cuda" not in done.stderr.lower(), done.stderr


def test_train_asks_for_onednn_on_x86_before_tensorflow_is_imported(monkeypatch):
    """TensorFlow leaves its oneDNN kernels off on CPUs without AVX-512 VNNI, bf16 or AMX, where
    they train 1.3-1.45x faster; only an import still to come can take the setting."""
    import platform

    import tensorflow  # noqa: F401

    from styletransfer_utils.device import onednn_for_training

    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    onednn_for_training()  # TensorFlow is imported in this process: too late, nothing is set
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ
    monkeypatch.delitem(sys.modules, "tensorflow")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    onednn_for_training()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")  # the user's own choice wins
    onednn_for_training()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")  # not measured there: left alone
    onednn_for_training()
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ
