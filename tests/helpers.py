"""Helpers shared by the tests: files that are not usable pictures, synthetic photos, tiny settings."""

import io
import struct
import zlib
from pathlib import Path

import numpy as np


def bomb_png(path, width=40000, height=40000):
    """A tiny PNG whose header claims ``width x height`` pixels (a decompression bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100))
                     + chunk(b"IEND", b""))
    return path


def make_bad_picture(folder: Path, kind: str) -> Path:
    """A file that is not a usable picture: missing, text, empty, truncated, tiny, bomb..."""
    from PIL import Image

    path = folder / f"{kind}.jpg"
    if kind == "text":
        path.write_text("hello, I am not a JPEG\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        buf = io.BytesIO()
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(buf, "JPEG")
        path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    elif kind == "tiny":
        Image.new("RGB", (1, 1)).save(path)
    elif kind == "bomb":
        path = bomb_png(folder / "bomb.png")
    elif kind == "bomb-below-pil-limit":  # PIL itself would decode this one
        path = bomb_png(folder / "bomb.png", 11000, 11000)
    elif kind == "folder":
        path = folder
    elif kind != "missing":
        raise ValueError(kind)
    return path


def assert_one_line_error(capsys, argv, *words, prefix=r"styletransfer: error: "):
    """Run the CLI's ``main(argv)``; it must exit 2 with one stderr line matching ``prefix``
    (a regular expression) and holding every one of ``words``."""
    import re

    from styletransfer_utils.cli import main

    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and re.match(prefix, err), err
    for w in words:
        assert w in err, err
    return err


#: Training settings for tests: 32 px crops, batch 2, VGG19 only up to relu2_2 (fast), float32
#: (deterministic)
TINY = dict(batch_size=2, crop_size=32, style_size=48, content_layers=("relu1_2",),
            style_layers=("relu1_2", "relu2_1"), precision="float32", checkpoint_every=0, preview_every=0,
            half_width=True, learning_rate=3e-3, seed=3, init=None)


def synthetic_photo(h, w, seed):
    """A smooth, photo-like uint8 picture with a little noise (a stand-in for a real photo)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(7 * x + seed), np.cos(5 * y - seed), np.sin(4 * (x + y))], -1)
    return np.clip(127.5 + 100 * base + rng.normal(0, 10, (h, w, 3)), 0, 255).astype(np.uint8)
