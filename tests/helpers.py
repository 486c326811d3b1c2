"""Helpers shared by the tests: files that are not usable pictures."""

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
