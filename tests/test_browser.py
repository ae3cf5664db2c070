"""In a real browser (Debian's Chromium driven by Playwright, offline): the learning-rate playground of
chapter 02 live in JupyterLab, and its static twin in the built HTML page.

Screenshots go to ``_build/screenshots/`` (look at them); the latencies seen in the browser are
printed and written to ``_build/screenshots/latency.json``. ``make test`` installs Chromium
(``scripts/system-deps.sh``); Playwright never downloads a browser here.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from nnpractice.distributed import free_port
from notebook_tools import ROOT

pytestmark = pytest.mark.slow

SHOTS = ROOT / "_build" / "screenshots"
CHAPTER = "02_anatomy_of_training"
TOKEN = "nnpractice-browser-test"


def _record(name: str, values: dict) -> None:
    path = SHOTS / "latency.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = values
    path.write_text(json.dumps(data, indent=2))
    print(f"{name}: {values}")


@pytest.fixture(scope="module")
def browser(chromium):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return chromium


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of chapter 02, with its own config and settings."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "work"
    work.mkdir()
    shutil.copy(ROOT / "chapters" / f"{CHAPTER}.ipynb", work)
    overrides = {"@jupyterlab/apputils-extension:notification": {"checkForUpdates": False, "fetchNews": "false"},
                 "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True}}
    (tmp / "cfg" / "labconfig").mkdir(parents=True)
    (tmp / "cfg" / "labconfig" / "default_setting_overrides.json").write_text(json.dumps(overrides))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "cfg"), JUPYTER_DATA_DIR=str(tmp / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp / "rt"), NNPRACTICE_SCALE="cpu", OMP_NUM_THREADS="1")
    port = free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
               "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={work}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp / "lab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert server.poll() is None, (tmp / "lab.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "JupyterLab did not start in 120 s"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


KERNEL_IDLE = ("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
               " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
               " return !!k && k.status === 'idle'; }")


def _offline(page, allowed_prefix: str) -> None:
    """Refuse every request that does not go to ``allowed_prefix`` (the book must work offline)."""
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(allowed_prefix)
               or route.request.url.startswith(("data:", "blob:")) else route.abort())


def test_lab_runs_chapter_02_and_the_lr_slider_retrains(browser, lab):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    _offline(page, lab)
    page.goto(f"{lab}/lab/tree/{CHAPTER}.ipynb?token={TOKEN}")
    page.wait_for_function(KERNEL_IDLE, timeout=120_000)
    start = time.monotonic()
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    # wait until every cell has run: no "[*]" prompt left and the kernel idle again
    page.wait_for_function(
        "() => { const p = [...document.querySelectorAll('.jp-InputPrompt')].map(e => e.textContent);"
        " return p.length > 0 && !p.some(t => t.includes('*')) && !p.some(t => t.trim() === '[ ]:' ) }",
        timeout=300_000)
    page.wait_for_function(KERNEL_IDLE, timeout=60_000)
    run_all = time.monotonic() - start
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0

    box = page.locator(".widget-vbox", has=page.locator("img.widget-image")).first
    image = box.locator("img.widget-image")
    status = box.locator(".widget-html")
    box.scroll_into_view_if_needed()
    image.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("(el) => el.naturalWidth > 0", arg=image.element_handle(), timeout=30_000)
    assert "completed" in status.inner_text()
    box.screenshot(path=str(SHOTS / "lab_ch02_playground_before.png"))
    page.screenshot(path=str(SHOTS / "lab_ch02_page.png"))
    before_src, before_status = image.get_attribute("src"), status.inner_text()

    # drag the learning-rate handle (the first slider) to the left: a smaller rate
    handle = box.locator(".widget-slider .noUi-handle").first
    hb = handle.bounding_box()
    page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    page.mouse.down()
    page.mouse.move(hb["x"] - 90, hb["y"] + hb["height"] / 2, steps=8)
    t0 = time.monotonic()
    page.mouse.up()
    page.wait_for_function("([el, src]) => el.getAttribute('src') !== src",
                           arg=[image.element_handle(), before_src], timeout=30_000)
    first_frame = time.monotonic() - t0
    page.wait_for_function("([el, old]) => el.innerText !== old && !el.innerText.includes('training')",
                           arg=[status.element_handle(), before_status], timeout=60_000)
    final = time.monotonic() - t0
    after_status = status.inner_text()
    assert "completed" in after_status and after_status != before_status, after_status
    assert image.get_attribute("src") != before_src
    box.screenshot(path=str(SHOTS / "lab_ch02_playground_dragged.png"))

    # a few more changes by keyboard (one step of the log slider each), timed to the final figure
    handle.focus()
    finals = [final]
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft", "ArrowRight", "ArrowLeft", "ArrowRight"):
        old = status.inner_text()
        t0 = time.monotonic()
        page.keyboard.press(key)
        page.wait_for_function("([el, old]) => el.innerText !== old && !el.innerText.includes('training')",
                               arg=[status.element_handle(), old], timeout=60_000)
        finals.append(time.monotonic() - t0)
        assert "completed" in status.inner_text(), status.inner_text()

    # the far right end of the slider (lr = 10) diverges: the widget says so, no traceback
    page.keyboard.press("End")
    page.wait_for_function("(el) => el.innerText.includes('diverged at epoch')",
                           arg=status.element_handle(), timeout=60_000)
    assert "learning rate 10" in status.inner_text()
    assert page.locator(".jp-OutputArea-output:has-text('Traceback')").count() == 0
    box.screenshot(path=str(SHOTS / "lab_ch02_playground_diverged.png"))
    finals.sort()
    _record("jupyterlab", {"run_all_s": round(run_all, 1), "drag_to_first_frame_s": round(first_frame, 3),
                           "drag_to_final_figure_s": round(final, 3),
                           "change_to_final_figure_median_s": round(finals[len(finals) // 2], 3),
                           "change_to_final_figure_max_s": round(finals[-1], 3), "changes": len(finals)})
    page.close()


def test_book_page_static_twin_slider_swaps_the_figure(browser, built_book):
    html = built_book.html
    page_path = html / "chapters" / f"{CHAPTER}.html"
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    _offline(page, "file://")
    page.goto(page_path.as_uri())
    # The page trains its live playground (JavaScript) first; the twin is folded below it, PyTorch's figures.
    live = page.locator("div.nnp-live").first
    page.wait_for_function("(e) => e.dataset.status && e.dataset.status !== 'running'", arg=live.element_handle(),
                           timeout=30_000)
    assert live.get_attribute("data-status") == "completed"
    assert page.locator("p.nnp-live-status").first.inner_text().startswith("epoch 30 of 30")
    live.screenshot(path=str(SHOTS / "book_ch02_live.png"))
    _record("book live playground", {"first_frame_ms": float(live.get_attribute("data-first-frame-ms")),
                                     "30_epochs_ms": float(live.get_attribute("data-run-ms"))})
    page.click("details.nnp-live-precomputed summary")
    twin = page.locator(".nnp-twin").first
    twin.scroll_into_view_if_needed()
    shown = twin.locator("img[data-k]:visible")
    assert shown.count() == 1
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=shown.element_handle())
    before_key, before_src = shown.get_attribute("data-k"), shown.get_attribute("src")
    twin.screenshot(path=str(SHOTS / "book_ch02_twin_before.png"))

    slider = twin.locator("input.nnp-s").first
    slider.focus()
    t0 = time.monotonic()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([t, k]) => { const v = [...t.querySelectorAll('img[data-k]')]"
                           ".filter(e => e.style.display !== 'none'); return v.length === 1 && v[0].dataset.k !== k }",
                           arg=[twin.element_handle(), before_key], timeout=10_000)
    swap = time.monotonic() - t0
    shown = twin.locator("img[data-k]:visible")
    assert shown.count() == 1
    assert shown.get_attribute("data-k") == str(int(before_key) + 1)
    assert shown.get_attribute("src") != before_src and shown.get_attribute("src").startswith("data:image/png")
    twin.screenshot(path=str(SHOTS / "book_ch02_twin_after.png"))

    page.keyboard.press("End")  # the largest learning rate: a diverged run, said in its title
    shown = twin.locator("img[data-k]:visible")
    assert shown.count() == 1 and "learning rate = 10" in shown.get_attribute("alt")
    assert twin.locator("[data-v]:visible").inner_text() == "10"
    twin.screenshot(path=str(SHOTS / "book_ch02_twin_end.png"))
    page.screenshot(path=str(SHOTS / "book_ch02_page.png"), full_page=False)
    _record("book", {"slider_to_new_image_s": round(swap, 3)})
    page.close()
