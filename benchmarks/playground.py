"""Latency of the live playground: slider change -> new figure, in the kernel's process.

    .venv/bin/python benchmarks/playground.py            # 2D defaults and digits, 20 changes each
    .venv/bin/python benchmarks/playground.py --changes 40

A "change" sets the learning-rate control the way the browser does (``control.value = v``)
and is timed to the first streamed frame that shows the new value and to the final
figure (the run finished and drawn). Values alternate across a range that trains to the
end (no divergence), so every change costs a full run. The debounce (30 ms) is included.
Never an assertion: the budgets (2D defaults <= 0.5 s median, image set <= 1 s) are
compared in the printed table. The browser test prints the same latency seen in Chromium.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from nnpractice import widgets

BUDGET = {"moons": 0.5, "digits": 1.0}


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def measure(problem: str, changes: int) -> dict:
    start = time.perf_counter()
    pg = widgets.Playground(problem, knobs=("lr",))
    construct = time.perf_counter() - start
    frames = []
    pg.image.observe(lambda change: frames.append(time.perf_counter()), names="value")
    lrs = [0.03, 0.05, 0.08, 0.12, 0.2] if problem in widgets.IMAGE_PROBLEMS else [0.02, 0.04, 0.06, 0.09, 0.15]
    first, final, train = [], [], []
    for i in range(changes):
        frames.clear()
        t0 = time.perf_counter()
        pg.controls["lr"].value = lrs[i % len(lrs)]
        run = pg.wait(timeout=120)
        t1 = time.perf_counter()
        assert run.config["lr"] == lrs[i % len(lrs)] and run.status == "completed", run.status
        first.append((frames[0] if frames else t1) - t0)
        final.append(t1 - t0)
        train.append(run.seconds)
    return {"construct": construct, "first": first, "final": final, "train": train,
            "config": {k: run.config[k] for k in ("epochs", "batch_size", "train_size", "width", "depth")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cold = time.perf_counter()
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    cold = time.perf_counter() - cold
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread; load average at start {load:.1f}")
    print(f"\nFirst torch.optim optimizer built in this process: {cold:.2f} s (the playground pays it while "
          "it is built, before the reader can touch a slider)")
    rows = []
    for problem in BUDGET:
        r = measure(problem, args.changes)
        rows.append([
            f"{problem} ({', '.join(f'{k} {v}' for k, v in r['config'].items())})",
            f"{r['construct']:.2f}",
            f"{statistics.median(r['first']):.3f} / {p90(r['first']):.3f}",
            f"{statistics.median(r['final']):.3f} / {p90(r['final']):.3f}",
            f"{statistics.median(r['train']):.3f}",
            f"{BUDGET[problem]:.1f}",
            "yes" if statistics.median(r["final"]) <= BUDGET[problem] else "NO",
        ])
    header = ["playground (defaults)", "built in (s)", "first frame: median / p90 (s)",
              "final figure: median / p90 (s)", "training alone, median (s)", "budget (s)", "within"]
    print(f"\n### Slider change -> figure, {args.changes} changes each\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nload average at the end {load:.1f} (other processes inflate these times)")


if __name__ == "__main__":
    main()
