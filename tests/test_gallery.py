"""The gallery script writes only shippable pictures, small."""

import pytest

from styletransfer_utils import gallery

pytestmark = pytest.mark.weights


def test_render_gallery_tiny(vgg_weights, tmp_path):
    lines = []
    written = gallery.render_gallery(tmp_path, size=64, steps=2, contents=("coffee",), log=lines.append)
    assert sorted(p.name for p in written) == ["coffee.png", "coffee_stylized.png", "generated_style.png"]
    assert all(p.stat().st_size < 300_000 for p in written)
    assert lines and lines[0].startswith("coffee: 64x")


def test_render_controls_tiny(vgg_weights, tmp_path):
    lines = []
    written = gallery.render_controls(tmp_path, size=64, steps=2, log=lines.append)
    assert [p.name for p in written] == [f"{name}.png" for name in gallery.CONTROLS]
    assert all(p.stat().st_size < 300_000 for p in written) and len(lines) == 3


def test_the_saucer_mask_covers_part_of_the_coffee_photo():
    from styletransfer_utils.data import shipped_content

    mask = gallery.saucer_mask(shipped_content("coffee").shape[:2])
    assert 0.2 < mask.mean() < 0.7 and mask[0, -1] == 0 and mask[-1, 0] == 0


def test_main_rejects_unknown_photos(capsys, monkeypatch):
    from styletransfer_utils.data import SHIPPED_CONTENT

    rendered = []

    def fake(kind):
        return lambda out, **kw: rendered.append((kind, kw["contents"])) or []

    monkeypatch.setattr(gallery, "render_gallery", fake("gatys"))
    monkeypatch.setattr(gallery, "render_fast_gallery", fake("fast"))
    monkeypatch.setattr(gallery, "render_controls", lambda out, **kw: rendered.append(("controls",)) or [])
    with pytest.raises(SystemExit) as caught:
        gallery.main(["--only", "coffee", "tubingen"])
    assert caught.value.code == 2  # argparse's usage error, before anything is rendered
    assert rendered == []
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.startswith("usage: python -m styletransfer_utils.gallery")
    assert "--only" in err and "invalid choice: 'tubingen'" in err
    choices = err[err.index("choose from"):]
    assert all(name in choices for name in SHIPPED_CONTENT), err
    # without the unknown photo the same call goes on to render the known one
    assert gallery.main(["--only", "coffee"]) == 0
    assert rendered == [("gatys", ("coffee",)), ("fast", ("coffee",)), ("controls",)]


def test_committed_gallery_is_small_and_credited():
    from pathlib import Path

    images = Path(__file__).resolve().parents[1] / "Images"
    pngs = sorted(images.glob("*.png"))
    credits = (images / "README.md").read_text(encoding="utf-8")
    for png in pngs:
        assert png.stat().st_size < 300_000, f"{png.name} is over 300 KB"
        assert png.name in credits, f"{png.name} is not listed in Images/README.md"


def test_render_fast_gallery_uses_every_shipped_network(tmp_path, monkeypatch):
    from styletransfer_utils import feedforward as ff

    models = tmp_path / "models"
    models.mkdir()
    ff.save_model(ff.build_transformer(half_width=True, seed=0), models / "toy.weights.h5")
    # shipped_models reads the constant of the module that defines it, not the package's re-export
    monkeypatch.setattr("styletransfer_utils.feedforward.models.MODELS_DIR", models)
    lines = []
    written = gallery.render_fast_gallery(tmp_path / "out", size=48, contents=("coffee", "rocket"), log=lines.append)
    assert [p.name for p in written] == ["coffee_toy.png", "rocket_toy.png"]
    assert lines[0].startswith("coffee with toy: 48x")
