"""The benchmark suite runs and prints every section of its summary (no timing is asserted)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_prints_one_summary_with_every_measurement():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--skip-notebooks", "--skip-book",
                             "--repeats", "1", "--changes", "1"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    summary = out[out.index("### Summary"):]
    rows = [line for line in summary.splitlines() if line.startswith("| ") and not line.startswith("| what")]
    for needle in ("`fit`, digits", "`fit`, Fashion-MNIST", "`BatchIterator` epoch", "ONNX Runtime, MLP",
                   "ONNX Runtime, CNN", "playground (moons)", "playground (digits)", "GPU"):
        assert any(needle in row for row in rows), (needle, summary)
    for row in rows:  # every row has a measured value and a comparison, none is blank
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), row
    assert "Machine: " in out and "torch " in out
