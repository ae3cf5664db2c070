"""Run a notebook cell by cell in a fresh kernel; the half of scripts/sandbox.py that runs inside the sandbox.

    python sandbox_runner.py RUN_DIR CELL_TIMEOUT

Reads ``RUN_DIR/input.ipynb`` and starts a kernel in the folder above ``RUN_DIR`` (the submission's
working copy). Before each code cell it writes ``RUN_DIR/progress.json`` (which cell is running), after
each cell ``RUN_DIR/executed.ipynb`` (so the cells that ran survive a crash), and at the end
``RUN_DIR/result.json`` (how the run ended). A cell that raises does not stop the run, so later exercises
still run; a cell that runs past CELL_TIMEOUT seconds is interrupted (like the stop button) and the run
goes on; when the kernel dies the run stops. Very long printed output keeps its head and tail. Student
code runs as this process's user and can overwrite every one of these files: whoever reads them treats
them as untrusted data (scripts/sandbox.py does).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

# What a failed allocation says in Python, NumPy, PyTorch and C++ (a cell that ran out of memory).
MEMORY_MARKERS = ("MemoryError", "Unable to allocate", "can't allocate memory", "Cannot allocate memory",
                  "std::bad_alloc", "out of memory")


def write_json(path: Path, data: dict) -> None:
    """Replace `path` atomically, so a reader never sees half a file."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data))
    os.replace(partial, path)


def write_notebook(path: Path, nb) -> None:
    partial = path.with_suffix(".partial")
    nbformat.write(nb, str(partial))
    os.replace(partial, path)


def tidy_streams(cell, keep: int = 50_000) -> None:
    """Join consecutive printed output of one stream and keep only the head and tail of very long output.

    (Not nbclient's coalesce_streams: its carriage-return regex takes quadratic time on one long line.)
    """
    joined = []
    for out in cell.get("outputs", []):
        if (out.get("output_type") == "stream" and joined and joined[-1].get("output_type") == "stream"
                and joined[-1].get("name") == out.get("name")):
            joined[-1]["text"] += out.get("text", "")
        else:
            joined.append(out)
    for out in joined:
        text = out.get("text") if out.get("output_type") == "stream" else None
        if isinstance(text, str) and len(text) > 2 * keep:
            out["text"] = f"{text[:keep]}\n... [{len(text) - 2 * keep} characters cut] ...\n{text[-keep:]}"
    cell["outputs"] = joined


def ran_out_of_memory(cell) -> bool:
    return any(out.get("output_type") == "error"
               and any(m in f"{out.get('ename', '')}: {out.get('evalue', '')}" for m in MEMORY_MARKERS)
               for out in cell.get("outputs", []))


def how_it_ended(returncode: int | None) -> str:
    """The kernel process's exit status in words."""
    if returncode is None:
        return "the kernel stopped answering"
    if returncode < 0:
        signal_number = -returncode
        names = {9: "SIGKILL", 6: "SIGABRT", 11: "SIGSEGV", 24: "SIGXCPU: the CPU-time limit", 15: "SIGTERM"}
        return f"killed by signal {signal_number}" + (f" ({names[signal_number]})" if signal_number in names else "")
    return f"exited with code {returncode}"


def peak_memory(pid: int | None) -> dict:
    """The kernel's peak address space and resident memory in bytes (Linux /proc), to size the limits."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, TypeError):
        return {}
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {key: int(fields[key].split()[0]) * 1024 for key in ("VmPeak", "VmHWM") if key in fields}


def main(run_dir: Path, cell_timeout: float) -> None:
    nb = nbformat.read(str(run_dir / "input.ipynb"), as_version=4)
    result = {"status": "finished", "cell": None, "reason": "", "cell_problems": {}, "memory": {}}
    too_long = f"ran past the {cell_timeout:g} s cell limit and was interrupted"

    def note_timeout(cell, cell_index, execute_reply):
        """nbclient interrupts a cell past the limit and answers for it with this error."""
        if (execute_reply or {}).get("content", {}).get("ename") == "CellTimeoutError":
            cell.outputs.append(nbformat.v4.new_output("error", ename="CellTimeoutError", evalue=too_long,
                                                       traceback=[too_long]))
            result["cell_problems"][cell_index] = too_long

    client = NotebookClient(nb, timeout=cell_timeout, allow_errors=True, kernel_name="python3",
                            interrupt_on_timeout=True, on_cell_executed=note_timeout,
                            # C-level output (a dying C++ library's last words) straight to our log, where it
                            # survives a crash, rather than through a thread of the kernel that dies with it
                            extra_arguments=["--IPKernelApp.capture_fd_output=False"],
                            error_on_timeout={"ename": "CellTimeoutError", "evalue": too_long, "traceback": []},
                            resources={"metadata": {"path": str(run_dir.parent)}})
    client.reset_execution_trackers()
    with client.setup_kernel():
        kernel = getattr(client.km.provisioner, "process", None)   # a subprocess.Popen
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            write_json(run_dir / "progress.json", {"cell": index, "state": "running"})
            try:
                client.execute_cell(cell, index)
                tidy_streams(cell)
            except DeadKernelError:
                tidy_streams(cell)
                try:
                    returncode = kernel.wait(timeout=10) if kernel is not None else None
                except subprocess.TimeoutExpired:                  # "dead" but not gone: it stopped answering
                    returncode = None
                result.update(status="kernel died", cell=index, reason=how_it_ended(returncode))
                if ran_out_of_memory(cell):
                    result.update(status="out of memory", reason=f"out of memory ({result['reason']})")
                write_notebook(run_dir / "executed.ipynb", nb)
                break
            if ran_out_of_memory(cell):
                result["cell_problems"][index] = "out of memory"
                if result["status"] == "finished":
                    result.update(status="out of memory", cell=index, reason="out of memory (the kernel survived)")
            write_notebook(run_dir / "executed.ipynb", nb)
        else:
            result["memory"] = peak_memory(kernel.pid if kernel is not None else None)
    write_notebook(run_dir / "executed.ipynb", nb)
    write_json(run_dir / "progress.json", {"cell": None, "state": "done"})
    write_json(run_dir / "result.json", result)


if __name__ == "__main__":
    main(Path(sys.argv[1]), float(sys.argv[2]))
