"""Notebook 05 in a real browser: JupyterLab, headless Chromium, the ipywidgets front end.

``tests/test_widgets.py`` drives the panels from Python only (it sets ``.value``). A mismatch
between the Python and the JavaScript halves of ipywidgets would show "Error displaying widget"
to a learner and pass there; this test draws the sliders in Chromium and moves one.

It starts ``jupyter lab`` on 127.0.0.1 (a free port, a random token, settings and workspaces in
a temporary folder) serving a *copy* of the notebook, so nothing is autosaved into
``notebooks/``, opens it in headless Chromium through Selenium and the system chromedriver,
runs all cells in smoke mode, checks that the sliders are drawn with their labels in full,
moves the style weight slider with the keyboard and waits for the status line and the preview
picture to change.

Chromium and its driver are Debian packages: ``apt-get install chromium chromium-driver``
(``.ci/run`` installs them when missing). Without them the test skips, or fails under CI=true.
Run it alone with ``pytest tests/test_browser.py`` (it is marked ``browser``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.weights, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "05_interactive_sliders.ipynb"
BUDGET = 110.0  # seconds from starting JupyterLab to the last check; the issue asks for under two minutes
INSTALL_HINT = "run `apt-get install chromium chromium-driver`"


def _missing(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium():
    """Paths of Chromium and chromedriver (fails under CI=true when missing, else skips)."""
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver") or next((p for p in ("/usr/bin/chromedriver",) if Path(p).is_file()), None)
    if browser is None or driver is None:
        what = " and ".join(n for n, p in (("Chromium", browser), ("chromedriver", driver)) if p is None)
        _missing(f"{what} not found: {INSTALL_HINT}")
    if importlib.util.find_spec("selenium") is None:
        _missing("selenium is not installed: run `pip install -e \".[dev]\"`")
    return browser, driver


class Deadline:
    def __init__(self, seconds: float, start: float):
        self.end = start + seconds

    def left(self, cap: float) -> float:
        return max(0.0, min(cap, self.end - time.monotonic()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """JupyterLab user settings: no news or update pop-ups, no autosave, every cell in the DOM."""
    settings = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                           "checkForUpdates": False},
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for name, values in settings.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture
def lab(tmp_path, vgg_weights, chromium):  # chromium first: no server started for a test that skips
    """A JupyterLab server on 127.0.0.1 serving a copy of notebook 05; yields (url, log path, start time)."""
    started = time.monotonic()
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(NOTEBOOK, served / NOTEBOOK.name)
    settings = tmp_path / "lab-settings"
    _write_settings(settings)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, STYLETRANSFER_SMOKE="1", TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"), IPYTHONDIR=str(tmp_path / "ipython"))
    log = tmp_path / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={served}", f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None",
               "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        end = started + 45
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > end:
                why = f"exited with code {server.returncode}" if server.poll() is not None else "did not answer in 45 s"
                pytest.fail(f"JupyterLab {why}; its log ends:\n{_tail(log)}", pytrace=False)
            time.sleep(0.3)
        yield f"{base}/lab/tree/{NOTEBOOK.name}?reset&token={token}", log, started
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # the server and the kernel it started
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(5)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture
def browser(chromium, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tmp_path / "chromium-profile"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    service = Service(executable_path=driver_path, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)  # about 10 MB, of no use after the test


# JavaScript run in the page ------------------------------------------------------------------

# The status bar reads "No Kernel | Initializing", "Python 3 (ipykernel) | Connecting", ... "| Idle"
# (the toolbar's execution indicator says "idle" before any kernel exists: not a sign of readiness).
KERNEL_IDLE = """
const items = Array.from(document.querySelectorAll('.jp-StatusBar-Widget')).map(e => e.innerText);
return items.some(t => t.split('\\n').some(line => / \\| Idle$/.test(line.trim()) && !line.startsWith('No Kernel')));"""

PROMPTS = """
return Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt'))
            .map(e => e.textContent.trim());"""

ERRORS = """
return Array.from(document.querySelectorAll('.jp-Notebook [data-mime-type="application/vnd.jupyter.error"]'))
            .map(e => e.innerText.trim().slice(-1500));"""

# A label is cut (drawn with an ellipsis) when its text is wider than its box, if only by a
# fraction of a pixel, which scrollWidth (an integer) would miss: measure the text with a Range.
SLIDERS = """
return Array.from(document.querySelectorAll('.jp-Notebook .jupyter-widgets.widget-slider')).map(s => {
  const label = s.querySelector('.widget-label');
  let cut = false;
  if (label) {
    const text = document.createRange();
    text.selectNodeContents(label);
    cut = text.getBoundingClientRect().width > label.getBoundingClientRect().width + 0.01;
  }
  return {label: label ? label.textContent.trim() : '', cut: cut, visible: s.getBoundingClientRect().width > 0};
});"""

# The panel: the status line is the HTML widget that reads "preview N: ..." or "rendered ...",
# the preview is the picture in the box headed "preview"; its pixels, read through a canvas.
PANEL = """
const htmls = Array.from(document.querySelectorAll('.jp-Notebook .widget-html-content'));
const status = htmls.find(e => /^(preview \\d+:|rendered |rendering )/.test(e.textContent.trim()));
const head = htmls.find(e => e.textContent.trim() === 'preview');
const box = head ? head.closest('.widget-vbox') : null;
const img = box ? box.querySelector('img') : null;
let pixels = null;
if (img && img.complete && img.naturalWidth > 0) {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext('2d').drawImage(img, 0, 0);
  pixels = c.toDataURL('image/png');
}
return {status: status ? status.textContent.trim() : null, pixels: pixels,
        size: img ? [img.naturalWidth, img.naturalHeight] : null};"""

RUN_ALL = ("//li[contains(@class, 'lm-Menu-item')]"
           "[.//div[contains(@class, 'lm-Menu-itemLabel')][normalize-space() = 'Run All Cells']]")

PAGE_TEXT = """
const e = document.querySelector('.jp-Notebook') || document.body;
return e ? e.innerText : '';"""


def test_notebook_05_sliders_draw_and_move_in_a_browser(lab, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, log, start = lab
    deadline = Deadline(BUDGET, start)

    def page_text() -> str:
        try:
            text = browser.execute_script(PAGE_TEXT) or ""
        except Exception as exc:  # noqa: BLE001 - the page may be gone
            text = f"(cannot read the page: {exc})"
        text = re.sub(r"\s+", " ", text).strip()
        return text if len(text) < 1500 else "..." + text[-1500:]

    def failure(what: str) -> str:
        shot = tmp_path / "browser_failure.png"
        try:
            browser.save_screenshot(str(shot))
            where = f"screenshot: {shot}"
        except Exception:  # noqa: BLE001
            where = "no screenshot"
        return (f"{what} ({time.monotonic() - start:.0f} s after starting JupyterLab); {where}\n"
                f"page text: {page_text()}\n"
                f"JupyterLab log ends:\n{_tail(log, 15)}")

    def wait_for(condition, cap: float, what: str):
        """Poll ``condition`` until it returns something truthy; fail naming ``what`` was not seen."""
        limit = deadline.left(cap)
        end = time.monotonic() + limit
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > end:
                budget = " (the test's time budget ran out)" if limit < cap else ""
                what = what() if callable(what) else what
                pytest.fail(failure(f"{what} within {limit:.0f} s{budget}"), pytrace=False)
            time.sleep(0.25)

    def no_widget_errors():
        text = browser.execute_script("return document.body.innerText")
        if "Error displaying widget" in text:
            pytest.fail(failure("the page shows 'Error displaying widget': the ipywidgets front end "
                                "(jupyterlab_widgets) does not match the Python ipywidgets"), pytrace=False)

    def no_cell_errors():
        errors = browser.execute_script(ERRORS)
        if errors:
            pytest.fail(failure("a cell raised an error:\n" + "\n".join(errors)), pytrace=False)

    browser.get(url)
    wait_for(lambda: browser.execute_script(KERNEL_IDLE), 45,
             "the notebook did not open with an idle kernel (status bar: '... | Idle')")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item"), 10, "the menu bar was not drawn")

    # Run > Run All Cells, as a learner would
    run_menu = [e for e in browser.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item") if e.text.strip() == "Run"]
    assert run_menu, failure("no 'Run' menu in the menu bar")
    run_menu[0].click()
    run_all = wait_for(lambda: browser.find_elements(By.XPATH, RUN_ALL), 10, "the Run menu did not open")
    run_all[0].click()

    def all_ran():
        no_cell_errors()
        dialogs = [d.text for d in browser.find_elements(By.CSS_SELECTOR, ".jp-Dialog")]
        if dialogs:
            pytest.fail(failure("a dialog stopped the run: " + " / ".join(d.replace("\n", " ") for d in dialogs)),
                        pytrace=False)
        prompts = browser.execute_script(PROMPTS)
        return prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts)

    wait_for(all_ran, 75, "the cells did not all run (prompts still '[*]' or '[ ]')")
    no_widget_errors()

    sliders = wait_for(lambda: [s for s in browser.execute_script(SLIDERS) if s["visible"]], 20,
                       "the sliders were not drawn")
    no_widget_errors()
    labels = [s["label"] for s in sliders]
    for expected in ("content weight", "style weight", "TV weight", "conv1_1", "size", "steps"):
        assert expected in labels, failure(f"no slider labelled {expected!r}; the sliders drawn: {labels}")
    cut = [s["label"] for s in sliders if s["cut"]]
    assert not cut, failure(f"slider labels cut short on the page: {cut}")

    before = wait_for(lambda: (lambda p: p if p["status"] and p["pixels"] else None)(browser.execute_script(PANEL)),
                      10, "the status line and the preview picture were not drawn")

    # Move the style weight slider one step to the right with the keyboard (released at once, so
    # it sends its new value even though continuous_update is off).
    style = [e for e in browser.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jupyter-widgets.widget-slider")
             if e.find_element(By.CSS_SELECTOR, ".widget-label").text.strip() == "style weight"][0]
    readout = style.find_element(By.CSS_SELECTOR, ".widget-readout").text
    handle = style.find_element(By.CSS_SELECTOR, ".noUi-handle")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", handle)
    handle.send_keys(Keys.ARROW_RIGHT)
    wait_for(lambda: style.find_element(By.CSS_SELECTOR, ".widget-readout").text != readout, 5,
             f"the style weight slider did not move from {readout} on the arrow key")

    seen = {}

    def changed():
        seen.update(browser.execute_script(PANEL))
        moved = seen["status"] != before["status"] and seen["pixels"] and seen["pixels"] != before["pixels"]
        return dict(seen) if moved else None

    def not_changed():
        status = "changed" if seen.get("status") != before["status"] else f"still reads {before['status']!r}"
        picture = "changed" if seen.get("pixels") not in (None, before["pixels"]) else "did not change"
        return (f"after the style weight slider moved, the status line and the preview picture did not both change "
                f"(the status line {status}, the picture {picture})")

    after = wait_for(changed, 40, not_changed)
    assert after["status"].startswith("preview"), failure(f"unexpected status line after the move: {after['status']}")
    no_widget_errors()
    no_cell_errors()
