"""Speed measurements of the book's library and notebooks, printed as tables.

    make bench                     # everything
    .venv/bin/python benchmarks/run.py --skip-notebooks

Never timed assertions: these numbers depend on the machine. Each comparison runs the
two contenders interleaved, several times, and reports the median of each and their ratio.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from nnpractice import data, models, training

ROOT = Path(__file__).resolve().parents[1]


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
    table("One shuffled epoch of batches: `DataLoader(TensorDataset)` vs `data.BatchIterator`",
          ["data", "batch", "DataLoader (ms)", "BatchIterator (ms)", "speed-up"], rows)


def bench_notebooks() -> None:
    import nbformat
    from nbclient import NotebookClient

    rows, total = [], 0.0
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds = time.perf_counter() - start
        total += seconds
        rows.append([path.stem, f"{seconds:.1f}"])
    rows.append(["**all chapters**", f"**{total:.1f}**"])
    table("Notebook execution time (fresh kernel each, kernel start included)", ["notebook", "seconds"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {sys.version.split()[0]}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} thread; CUDA: {torch.cuda.is_available()}")
    bench_fit(args.repeats)
    bench_batches(args.repeats)
    if not args.skip_notebooks:
        bench_notebooks()


if __name__ == "__main__":
    main()
