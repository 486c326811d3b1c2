"""The command line is generated from the settings dataclasses, and answers help and bad input
without importing TensorFlow (``styletransfer --help`` used to take seconds)."""

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from styletransfer_utils import cli
from styletransfer_utils.settings import Settings, TrainSettings

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from styletransfer_utils.cli import main
code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "heavy": sorted(m for m in ("tensorflow", "keras") if m in sys.modules)}),
      file=sys.stderr)
"""


def _probe(argv, tmp_path):
    """Run ``main(argv)`` in a fresh interpreter; its exit code and the heavy modules it imported."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *messages, last = done.stderr.strip().splitlines()
    return json.loads(last), done.stdout, messages


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0),
    (["demo", "--help"], 0),
    (["train", "--help"], 0),
    (["fast", "--help"], 0),
    (["examples"], 0),
    (["examples", "--help"], 0),
    (["exercises", "--help"], 0),
    (["content.png", "style.png", "-o", "out.png", "--size", "5"], 2),
    (["content.png", "style.png", "-o", "out.png", "--no-such-option"], 2),
    (["content.png", "style.png", "-o", "out.png", "--style-layers", "conv9_1"], 2),
    (["train", "style.png", "--data", "photos", "-o", "m.keras", "--batch-size", "0"], 2),
    (["fast", "m.keras", "x.png", "-o", "o.png", "--size", "3"], 2),
    ([], 2),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_answers_without_tensorflow(tmp_path, argv, code):
    result, out, messages = _probe(argv, tmp_path)
    assert result["code"] == code, messages
    assert result["heavy"] == [], f"{argv} imported {result['heavy']}"
    if code == 2:
        assert len(messages) == 1 and "error" in messages[0], messages
    if argv and argv[-1] == "--help":
        assert out.startswith("usage: styletransfer")


def _flags(parser):
    return {a.dest: a for a in parser._actions}


@pytest.mark.parametrize("build, settings_class, required", [
    (cli.build_parser, Settings, ["c.png", "s.png", "-o", "o.png"]),
    (cli.build_demo_parser, Settings, []),
    (cli.build_train_parser, TrainSettings, ["s.png", "--data", "d", "-o", "m.keras"]),
], ids=["transfer", "demo", "train"])
def test_every_setting_is_an_option(monkeypatch, build, settings_class, required):
    monkeypatch.setenv("COLUMNS", "200")
    parser = build()
    actions = _flags(parser)
    help_text = parser.format_help()
    defaults = settings_class()
    for f in dataclasses.fields(settings_class):
        flag = "--" + f.name.replace("_", "-")
        assert f.name in actions, f"{settings_class.__name__}.{f.name} has no option {flag}"
        assert flag in actions[f.name].option_strings
        # the field's own default (a None that the settings resolve, as TrainSettings.style_error, stays None)
        given = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert actions[f.name].default == (given if given is None else getattr(defaults, f.name))
        assert f.metadata["help"].split(",")[0] in " ".join(help_text.split()), f.name
    # no options: the dataclass's defaults
    args = parser.parse_args(required)
    assert cli.settings_from_args(args, settings_class) == settings_class()


def test_help_shows_defaults(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a narrow terminal would split the long layer list
    text = " ".join(cli.build_train_parser().format_help().split())
    assert "random seed for initialisation and crops (default: random)" in text
    assert "--half-width, --no-half-width" in text
    assert "comma-separated weights, one per style layer (the Gatys default's: 1,1,1,1,0.3) (default: equal)" in text
    assert "(default: 3000)" in text and "(default: block4_conv2)" in text and "(default: starry_night)" in text
    text = " ".join(cli.build_parser().format_help().split())
    assert "--jit-compile, --no-jit-compile" in text and "(default: 512)" in text
    assert "(default: block1_conv1,block2_conv1,block3_conv1,block4_conv1,block5_conv1)" in text


def test_a_new_field_is_a_new_option():
    """Adding a field (with its help) to a settings dataclass is all a new option takes."""
    def option(default, help, **more):
        return dataclasses.field(default=default, metadata={"help": help, **more})

    @dataclasses.dataclass
    class Extra:
        count: int = option(3, "how many")
        ratio: float = option(0.5, "how much")
        names: tuple = option(("a", "b"), "which ones", csv=str, metavar="NAMES")
        weights: tuple | None = option(None, "how heavy", csv=float, metavar="W1,W2")
        seed: int | None = option(None, "a seed", type=int, none="random")
        fancy: bool = option(False, "be fancy")

        def validated(self):
            return self

    parser = argparse.ArgumentParser()
    cli.add_settings_options(parser, Extra)
    args = parser.parse_args(["--count", "4", "--names", "x,y,z", "--weights", "1,2", "--seed", "7", "--fancy"])
    assert cli.settings_from_args(args, Extra) == Extra(4, 0.5, ("x", "y", "z"), (1.0, 2.0), 7, True)
    assert cli.settings_from_args(parser.parse_args([]), Extra) == Extra()
    text = " ".join(parser.format_help().split())
    assert "how many (default: 3)" in text and "which ones (default: a,b)" in text
    assert "a seed (default: random)" in text and "--fancy, --no-fancy" in text and "--names NAMES" in text

    @dataclasses.dataclass
    class Untyped:
        mystery: int | None = option(None, "no type given")

    with pytest.raises(TypeError, match="mystery"):
        cli.add_settings_options(argparse.ArgumentParser(), Untyped)


def test_one_progress_bar_for_both_runs():
    from types import SimpleNamespace

    losses = {"total": 1.0, "content": 0.5, "style": 0.25, "tv": 0.25}
    bar = cli.ProgressBar()
    bar(SimpleNamespace(step=1, steps=10, losses=losses, elapsed=0.1))
    assert bar.bar.n == 1 and "img/s" not in bar.bar.postfix
    bar.close()
    bar = cli.ProgressBar(initial=4)
    bar(SimpleNamespace(step=5, steps=10, losses=losses, elapsed=0.1, images_per_second=12.5, skipped=2))
    assert bar.bar.n == 5 and "12.5 img/s skipped=2" in bar.bar.postfix
    bar.close()
