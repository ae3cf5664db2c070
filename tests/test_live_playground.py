"""The live playground of the HTML book, in a real browser (Debian's Chromium via Playwright) from ``file://``.

The page trains the network itself (``widgets/js/trainer.js``): the test moves a slider with the keyboard
and waits for the run to finish, checks the redrawn status, the URL hash that shares the run, "diverged" at
a huge learning rate, and the static twin shown instead when JavaScript is off. Every request other than
``file://`` is refused, so the page must work offline. Latencies are printed and written to
``_build/screenshots/latency.json`` (never asserted); screenshots go to ``_build/screenshots/``.
"""
from __future__ import annotations

import json
import statistics

import pytest

from nnpractice.widgets import live_playground, static_twin
from notebook_tools import ROOT

pytestmark = pytest.mark.slow

SHOTS = ROOT / "_build" / "screenshots"
LRS = [0.001, 0.01, 0.1, 1.0, 3.0, 10.0]


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    twin = static_twin("moons", "lr", [0.01, 0.1, 1.0], epochs=20, seed=0)
    live = live_playground("moons", {"lr": LRS, "activation": ["relu", "tanh", "sigmoid"]}, seed=0,
                           fallback=twin, epochs=20, lr=0.1, problems=["moons", "circles", "xor"])
    path = tmp_path_factory.mktemp("live") / "live.html"
    live.save(path)
    return path, live


def _open(chromium, url, javascript=True):
    context = chromium.new_context(java_script_enabled=javascript, viewport={"width": 1000, "height": 700})
    refused = []

    def only_files(route):
        if route.request.url.startswith("file://"):
            return route.continue_()
        refused.append(route.request.url)
        return route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return context, page, errors, refused


def _wait_done(page, root="div.nnp-live"):
    page.wait_for_function(f"document.querySelector('{root}').dataset.status !== 'running'", timeout=20000)
    return page.eval_on_selector(root, "e => ({...e.dataset})")


def test_the_page_trains_redraws_and_shares_the_run(chromium, page_file):
    path, live = page_file
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors, refused = _open(chromium, path.as_uri())
    try:
        first = _wait_done(page)
        assert first["status"] == "completed", first
        assert page.is_visible("div.nnp-live-ui") and page.is_hidden("div.nnp-live-fallback img")  # folded
        page.click("details.nnp-live-precomputed summary")
        assert page.locator("div.nnp-live-fallback img:visible").count() == 1
        page.click("details.nnp-live-precomputed summary")
        status = page.inner_text("p.nnp-live-status")
        assert status.startswith("epoch 20 of 20: training loss") and "validation accuracy" in status, status
        accuracy = float(status.split("validation accuracy ")[1].split("%")[0])
        assert accuracy > 80, f"moons at lr 0.1 for 20 epochs should be learned: {status}"
        page.set_viewport_size({"width": 720, "height": 700})  # the book's text column
        page.screenshot(path=str(SHOTS / "live-moons.png"))
        page.set_viewport_size({"width": 1000, "height": 700})

        slider = page.locator("input[data-knob='lr']")
        assert slider.get_attribute("value") == str(LRS.index(0.1))
        first_frames, full_runs = [], []
        for key in ["ArrowLeft", "ArrowLeft", "ArrowRight", "ArrowRight", "ArrowLeft", "ArrowRight"]:
            slider.focus()
            page.keyboard.press(key)  # the keyboard moves the slider: operable without a mouse
            done = _wait_done(page)
            assert done["status"] == "completed", done
            first_frames.append(float(done["firstFrameMs"]))
            full_runs.append(float(done["runMs"]))
        assert slider.input_value() == str(LRS.index(0.1))
        box = slider.bounding_box()  # a mouse drag of the thumb to the left end: the smallest rate
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        done = _wait_done(page)
        assert slider.input_value() == "0" and "lr=0.001" in page.evaluate("location.hash"), page.evaluate("location.hash")
        first_frames.append(float(done["firstFrameMs"]))
        full_runs.append(float(done["runMs"]))
        slider.fill(str(LRS.index(0.1)))  # back to the start for what follows
        _wait_done(page)
        hash_part = page.evaluate("location.hash")
        assert hash_part.startswith(f"#{page.eval_on_selector('div.nnp-live', 'e => e.id')}?"), hash_part
        assert "lr=0.1" in hash_part and "problem=moons" in hash_part and "seed=0" in hash_part, hash_part

        page.select_option("select[data-knob='problem']", "circles")  # another 2D problem, its own data
        done = _wait_done(page)
        assert done["status"] == "completed" and "problem=circles" in page.evaluate("location.hash"), done
        page.screenshot(path=str(SHOTS / "live-circles.png"))
        page.select_option("select[data-knob='problem']", "moons")
        _wait_done(page)

        slider.focus()
        page.keyboard.press("End")  # the largest learning rate
        done = _wait_done(page)
        status = page.inner_text("p.nnp-live-status")
        assert done["status"].startswith("diverged at epoch"), (done, status)
        assert status.startswith("diverged at epoch") and "smaller learning rate" in status, status
        page.screenshot(path=str(SHOTS / "live-moons-diverged.png"))
        assert not errors and not refused, (errors, refused)
    finally:
        context.close()
    values = {"first_frame_ms_median": statistics.median(first_frames), "first_frame_ms_max": max(first_frames),
              "20_epochs_ms_median": statistics.median(full_runs), "20_epochs_ms_max": max(full_runs),
              "changes": len(first_frames)}
    path = SHOTS / "latency.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data["live playground (moons, 2x16 tanh MLP, 200 points)"] = values
    path.write_text(json.dumps(data, indent=2))
    print(values)


def test_a_shared_link_restores_the_run(chromium, page_file):
    path, live = page_file
    context, page, errors, _ = _open(chromium, path.as_uri())
    ident = page.eval_on_selector("div.nnp-live", "e => e.id")
    context.close()
    url = f"{path.as_uri()}#{ident}?problem=xor&lr=0.01&activation=sigmoid&seed=5"
    context, page, errors, refused = _open(chromium, url)
    try:
        _wait_done(page)
        assert page.locator("input[data-knob='lr']").input_value() == str(LRS.index(0.01))
        assert page.locator("input[data-knob='activation']").input_value() == "2"
        assert page.locator("input[aria-label='seed']").input_value() == "5"
        assert page.locator("select[data-knob='problem']").input_value() == "xor"
        assert "lr=0.01" in page.evaluate("location.hash")
        assert not errors and not refused
    finally:
        context.close()


def test_without_javascript_the_static_twin_shows(chromium, page_file):
    path, _ = page_file
    context, page, _, refused = _open(chromium, path.as_uri(), javascript=False)
    try:
        assert page.is_hidden("div.nnp-live-ui")
        assert page.locator("div.nnp-live-fallback img:visible").count() == 1  # the twin shows its start figure
        assert not refused
    finally:
        context.close()
