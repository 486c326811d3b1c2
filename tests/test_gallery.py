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


def test_main_rejects_unknown_photos():
    with pytest.raises(SystemExit):
        gallery.main(["--only", "tubingen"])
