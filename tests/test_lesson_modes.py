"""The notebooks' three modes: full, class (STYLETRANSFER_SIZE) and smoke (STYLETRANSFER_SMOKE)."""

import pytest

from styletransfer_utils.lessons import notebook
from styletransfer_utils.lessons.notebook import Lesson


def test_full_mode_keeps_the_full_sizes():
    lesson = Lesson(smoke=False)
    assert lesson.mode == "full" and lesson.size(smoke=64, full=512) == 512


def test_class_mode_caps_every_size_at_the_class_size():
    lesson = Lesson(smoke=False, class_size=192)
    assert lesson.mode == "class"
    assert [lesson.size(smoke=64, full=full) for full in (128, 192, 384, 1024)] == [128, 192, 192, 192]


def test_smoke_mode_wins_over_class_mode():
    lesson = Lesson(smoke=True, class_size=192)
    assert lesson.mode == "smoke" and lesson.size(smoke=64, full=512) == 64


@pytest.mark.parametrize("value, expected", [("", None), ("192", 192), (" 256 ", 256), ("64", 64), ("2048", 2048)])
def test_class_size_reads_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv("STYLETRANSFER_SIZE", value)
    assert notebook.class_size() == expected


@pytest.mark.parametrize("value", ["big", "19.5", "-192", "32", "4096"])
def test_a_bad_class_size_is_a_one_line_error_naming_the_fix(monkeypatch, value):
    monkeypatch.setenv("STYLETRANSFER_SIZE", value)
    with pytest.raises(ValueError) as error:
        notebook.class_size()
    message = str(error.value)
    assert "\n" not in message and value.strip() in message and "STYLETRANSFER_SIZE=192" in message
