"""Speed measurements of the book's library and notebooks, printed as tables, then one summary table.

    make bench                                   # everything (about 15 minutes on 2 CPU cores)
    .venv/bin/python benchmarks/run.py --skip-notebooks --skip-book

Sections: `fit` vs a hand-written loop; `BatchIterator` vs `DataLoader`; every notebook's execution
time and the whole book's build; the playground's slider-to-figure latency; the in-page JavaScript
trainer against ConvNetJS and its slider latency in Chromium; ONNX Runtime vs eager
PyTorch latency; GPU throughput of `fit` (float32 vs bf16 autocast + channels-last, and
torch.compile) when CUDA is present. Never timed assertions: these numbers depend on the machine.
Each comparison runs its contenders interleaved, several times, and reports medians and their ratio.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nnpractice import data, models, training

ROOT = Path(__file__).resolve().parents[1]
SUMMARY: list[list[str]] = []  # rows of the final table: what, measured, compared with, ratio


def interleaved(contenders: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each callable, run in turn ``repeats`` times (after one warm-up each)."""
    times = {name: [] for name in contenders}
    for fn in contenders.values():
        fn()
    order = list(contenders)
    for _ in range(repeats):
        for name in order:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
        order.reverse()  # alternate who goes first: no contender always runs on a warmer cache
    return {name: statistics.median(ts) for name, ts in times.items()}


def table(title: str, header: list[str], rows: list[list]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def hand_written_loop(model, X, y, num_epochs, batch_size, lr):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    batches = data.BatchIterator(X, y, batch_size=batch_size, seed=0)
    for _ in range(num_epochs):
        running = torch.zeros(())
        for xb, yb in batches:
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.detach()
        running.item()


def bench_fit(repeats: int) -> None:
    cases = []
    Xd, yd = data.load_digits()
    cases.append(("digits MLP 64-128-10", Xd, yd, [128], 20, 64))
    try:
        Xf, yf = data.load_fashion_mnist("train")
        cases.append(("Fashion-MNIST MLP 784-256-10 (10k images)", Xf[:10_000], yf[:10_000], [256], 2, 128))
    except FileNotFoundError as error:
        print(f"(Fashion-MNIST skipped: {error})")
    rows = []
    for name, X, y, hidden, num_epochs, batch_size in cases:
        model = models.mlp(X[0].numel(), hidden, 10)
        state = {k: v.clone() for k, v in model.state_dict().items()}

        def run_fit():
            model.load_state_dict(state)
            training.fit(model, (X, y), num_epochs=num_epochs, batch_size=batch_size,
                         optimizer=torch.optim.SGD(model.parameters(), lr=0.05), seed=0)

        def run_loop():
            model.load_state_dict(state)
            hand_written_loop(model, X, y, num_epochs, batch_size, 0.05)

        t = interleaved({"fit": run_fit, "loop": run_loop}, repeats)
        steps = num_epochs * -(-len(X) // batch_size)
        rows.append([name, steps, f"{t['loop']:.3f}", f"{t['fit']:.3f}", f"{t['fit'] / t['loop']:.3f}"])
        SUMMARY.append([f"`fit`, {name}", f"{t['fit']:.3f} s", f"hand-written loop {t['loop']:.3f} s",
                        f"{t['fit'] / t['loop']:.2f}× (budget ≤ 1.10×)"])
    table("`training.fit` vs a hand-written loop (same model, data, batches, steps)",
          ["case", "steps", "loop (s)", "fit (s)", "fit / loop"], rows)


def bench_batches(repeats: int) -> None:
    rows = []
    Xd, yd = data.load_digits()
    cases = [("digits (1,797 × 64)", Xd, yd)]
    try:
        Xf, yf = data.load_fashion_mnist("train")
        cases.append(("Fashion-MNIST (60,000 × 784)", Xf, yf))
    except FileNotFoundError:
        pass
    for name, X, y in cases:
        for batch_size in (64, 256):
            iterator = data.BatchIterator(X, y, batch_size=batch_size, seed=0)
            loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)

            def consume(batches):
                for xb, yb in batches:
                    pass

            t = interleaved({"iterator": lambda: consume(iterator), "loader": lambda: consume(loader)}, repeats)
            rows.append([name, batch_size, f"{t['loader'] * 1e3:.1f}", f"{t['iterator'] * 1e3:.1f}",
                         f"{t['loader'] / t['iterator']:.1f}×"])
            SUMMARY.append([f"`BatchIterator` epoch, {name}, batch {batch_size}", f"{t['iterator'] * 1e3:.1f} ms",
                            f"`DataLoader` {t['loader'] * 1e3:.1f} ms", f"{t['loader'] / t['iterator']:.1f}× faster"])
    table("One shuffled epoch of batches: `DataLoader(TensorDataset)` vs `data.BatchIterator`",
          ["data", "batch", "DataLoader (ms)", "BatchIterator (ms)", "speed-up"], rows)


def bench_notebooks() -> None:
    import nbformat
    from nbclient import NotebookClient

    rows, total, slowest = [], 0.0, ("", 0.0)
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        total += seconds
        slowest = max(slowest, (path.stem, seconds), key=lambda item: item[1])
        rows.append([path.stem, f"{seconds:.1f}"])
    rows.append([f"**all {len(rows)} chapters**", f"**{total:.1f}**"])
    table("Notebook execution time (fresh kernel each, kernel start included)", ["notebook", "seconds"], rows)
    SUMMARY.append([f"all {len(rows) - 1} chapter notebooks, executed one after another", f"{total:.0f} s",
                    f"slowest: {slowest[0]} {slowest[1]:.1f} s", "budget: each well under 60 s"])


def bench_book() -> None:
    """The whole book built from clean as CI builds it (warnings as errors), every notebook executed."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, MPLCONFIGDIR=str(Path(out) / "mpl"))
        start = time.perf_counter()
        result = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", "-W", "-n",
                                 "--keep-going", "--path-output", out, str(ROOT)],
                                capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        html = Path(out) / "_build" / "html"
        size = sum(f.stat().st_size for f in html.rglob("*") if f.is_file()) / 2**20 if html.exists() else 0.0
    status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    table("The whole book: `jupyter-book build -W -n` from clean", ["build", "seconds", "HTML size (MiB)"],
          [[status, f"{seconds:.0f}", f"{size:.1f}"]])
    SUMMARY.append(["whole book built from clean (`jupyter-book build -W -n`)", f"{seconds:.0f} s",
                    f"HTML {size:.1f} MiB", status])


def bench_playground(changes: int) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    import playground  # benchmarks/playground.py: the same measurement, also runnable alone

    rows = []
    for problem, budget in playground.BUDGET.items():
        r = playground.measure(problem, changes)
        final, first = statistics.median(r["final"]), statistics.median(r["first"])
        rows.append([problem, f"{r['construct']:.2f}", f"{first:.3f}", f"{final:.3f} / {playground.p90(r['final']):.3f}",
                     f"{budget:.1f}"])
        SUMMARY.append([f"playground ({problem}): slider change → final figure, median of {changes}",
                        f"{final:.3f} s", f"budget {budget:.1f} s", "within" if final <= budget else "OVER"])
    table(f"Playground: slider change → figure ({changes} learning-rate changes each, in-kernel)",
          ["playground (defaults)", "built in (s)", "first frame, median (s)", "final figure: median / p90 (s)",
           "budget (s)"], rows)


def bench_js(changes: int) -> None:
    """The in-page trainer: its speed against ConvNetJS in one Node.js process, and slider latency in Chromium."""
    import json

    from nnpractice.widgets import live_playground
    from nnpractice.widgets.problems import problem_data

    js_dir = ROOT / "benchmarks" / "js"
    if not (js_dir / "node_modules" / "convnetjs").exists():  # ConvNetJS from the npm registry, pinned by the lock
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(js_dir)], check=True,
                       capture_output=True)
    X, y, _, _ = problem_data("moons", 200, 0.2, seed=0)
    job = {"X": X.tolist(), "y": y.tolist(), "epochs": 20, "repeats": 9, "hidden": [16, 16], "lr": 0.1,
           "batchSize": 32}
    out = subprocess.run(["node", str(js_dir / "trainer_vs_convnetjs.js")], input=json.dumps(job), text=True,
                         capture_output=True, check=True).stdout
    r = json.loads(out)
    ratio = r["convnetjs_s_per_epoch"] / r["ours_s_per_epoch"]
    table(f"In-page trainer vs ConvNetJS (Node.js {r['node']}, moons, 200 points, 2x16 tanh, momentum, batch 32)",
          ["trainer", "ms per epoch (median of 9 x 20 epochs)"],
          [["widgets/js/trainer.js", f"{1000 * r['ours_s_per_epoch']:.2f}"],
           ["ConvNetJS 0.3.0", f"{1000 * r['convnetjs_s_per_epoch']:.2f}"]])
    SUMMARY.append(["in-page trainer: ms per epoch (moons MLP)", f"{1000 * r['ours_s_per_epoch']:.2f} ms",
                    "ConvNetJS, same MLP and data", f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"])

    from playwright.sync_api import sync_playwright

    chromium = Path(os.environ.get("NNPRACTICE_CHROMIUM", "/usr/bin/chromium"))
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "live.html"
        lrs = [0.003, 0.01, 0.03, 0.1, 0.3]
        live_playground("moons", {"lr": lrs}, seed=0, epochs=20, lr=0.1).save(page_path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(page_path.as_uri())
            done = "document.querySelector('div.nnp-live').dataset.status !== 'running'"
            page.wait_for_function(done)
            first, full = [], []
            slider = page.locator("input[data-knob='lr']")
            for i in range(changes):
                slider.focus()
                page.keyboard.press("ArrowLeft" if (i // 2) % 2 else "ArrowRight")
                page.wait_for_function(done)
                data_set = page.eval_on_selector("div.nnp-live", "e => ({...e.dataset})")
                first.append(float(data_set["firstFrameMs"]))
                full.append(float(data_set["runMs"]))
            browser.close()
    table(f"Live playground in headless Chromium from file:// ({changes} learning-rate changes, moons, 20 epochs)",
          ["measure", "median (ms)", "max (ms)", "budget (ms)"],
          [["slider change → first redrawn frame", f"{statistics.median(first):.0f}", f"{max(first):.0f}", "300"],
           ["slider change → 20 epochs trained and drawn", f"{statistics.median(full):.0f}", f"{max(full):.0f}", "2000"]])
    SUMMARY.append(["live playground in Chromium: slider → first frame / 20 epochs (median)",
                    f"{statistics.median(first):.0f} / {statistics.median(full):.0f} ms", "budget 300 / 2000 ms",
                    "within" if statistics.median(first) <= 300 and statistics.median(full) <= 2000 else "OVER"])


def bench_onnx(repeats: int) -> None:
    try:
        from nnpractice import deploy
    except ImportError as error:  # onnx / onnxruntime are an optional extra
        print(f"\n(ONNX skipped: {error})")
        return
    torch.manual_seed(0)
    cases = {"MLP 784-256-10": (models.mlp(784, [256], 10), (1, 784)),
             "CNN 16-32 (chapter 09's)": (models.cnn(1, 10, channels=(16, 32)), (1, 1, 28, 28))}
    inputs_all = torch.rand(64, 784)
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for name, (model, shape) in cases.items():
            model.eval()
            inputs = inputs_all.reshape(64, *shape[1:]).numpy()
            path = deploy.export_onnx(model, torch.zeros(2, *shape[1:]), Path(out) / "model.onnx")
            session = deploy.onnx_session(path, num_threads=1)
            ms = deploy.latency_table({"eager": deploy.eager_runner(model), "onnx": deploy.onnx_runner(session)},
                                      inputs, batch_sizes=(1, 64), repeats=repeats * 10)
            for batch in (1, 64):
                ratio = ms["eager"][batch] / ms["onnx"][batch]
                rows.append([name, batch, f"{ms['eager'][batch]:.3f}", f"{ms['onnx'][batch]:.3f}", f"{ratio:.2f}×"])
                SUMMARY.append([f"ONNX Runtime, {name}, batch {batch}", f"{ms['onnx'][batch]:.3f} ms",
                                f"eager PyTorch {ms['eager'][batch]:.3f} ms", f"{ratio:.2f}× faster"])
    table("Inference latency: ONNX Runtime vs eager PyTorch (median, 1 thread each, `torch.inference_mode`)",
          ["model", "batch", "eager (ms)", "ONNX Runtime (ms)", "speed-up"], rows)


def bench_gpu() -> None:
    if not torch.cuda.is_available():
        print("\n(GPU throughput: not measured, no CUDA device here.)")
        SUMMARY.append(["GPU throughput of `fit`", "not measured", "no CUDA device on this machine", "–"])
        return
    X, y = data.load_fashion_mnist("train")
    name = torch.cuda.get_device_name()
    cases = {"MLP 784-256-10": lambda: models.mlp(784, [256], 10),
             "tiny ResNet": lambda: models.tiny_resnet(1, 10)}
    settings = {"float32": {"precision": "fp32", "channels_last": False},
                "bf16 + channels-last": {"precision": "bf16", "channels_last": True},
                "bf16 + channels-last + compile": {"precision": "bf16", "channels_last": True, "compile": True}}
    rows = []
    for model_name, build in cases.items():
        base = None
        for label, options in settings.items():
            torch.manual_seed(0)
            model = build()
            history = training.fit(model, (X, y), num_epochs=3, batch_size=512, device="cuda", verbose=False,
                                   **options)
            seconds = min(history["epoch_time"][1:])  # epoch 1 pays warm-up (and compilation)
            rate = len(X) / seconds
            base = base or rate
            rows.append([model_name, label, f"{history['epoch_time'][0]:.2f}", f"{seconds:.3f}", f"{rate:,.0f}",
                         f"{rate / base:.2f}×"])
            SUMMARY.append([f"GPU `fit` throughput, {model_name}, {label} ({name})", f"{rate:,.0f} samples/s",
                            "float32 on the same GPU", f"{rate / base:.2f}×"])
    table(f"GPU throughput of `fit` on Fashion-MNIST (60,000 images, batch 512, {name})",
          ["model", "settings", "epoch 1 (s)", "best later epoch (s)", "samples/s", "vs float32"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--changes", type=int, default=20, help="slider changes per playground")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--skip-book", action="store_true", help="skip the full book build (about 5 minutes)")
    parser.add_argument("--only", default="", help="comma-separated sections to run, e.g. fit,playground "
                        "(fit, batches, onnx, playground, js, gpu, notebooks, book)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
               f"torch {torch.__version__}, {torch.get_num_threads()} thread; CUDA: {torch.cuda.is_available()}")
    print(f"Machine: {machine}; load average at start {load:.1f}")
    start = time.perf_counter()
    sections = {"fit": lambda: bench_fit(args.repeats), "batches": lambda: bench_batches(args.repeats),
                "onnx": lambda: bench_onnx(args.repeats), "playground": lambda: bench_playground(args.changes),
                "js": lambda: bench_js(args.changes),
                "gpu": bench_gpu, "notebooks": bench_notebooks, "book": bench_book}
    only = [s for s in args.only.split(",") if s]
    unknown = [s for s in only if s not in sections]
    if unknown:
        parser.error(f"--only={args.only!r} is not allowed: expected sections among {', '.join(sections)}.")
    skipped = {"notebooks": args.skip_notebooks, "book": args.skip_book}
    for name, run in sections.items():
        if (name in only) if only else not skipped.get(name, False):
            run()
    table("Summary", ["what", "measured", "compared with", "ratio / verdict"], SUMMARY)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{machine}. Load average at the end {load:.1f} (other processes inflate these times). "
          f"The benchmark took {time.perf_counter() - start:.0f} s.")


if __name__ == "__main__":
    main()
