"""Every tutorial notebook runs top to bottom (their cells assert their own results)."""

import glob
import os

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOKS = sorted(glob.glob(os.path.join(ROOT, "tutorials", "*.ipynb")))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        # Per cell. Under `make test` each of the two workers computes on
        # one thread, and tutorial 02's training cell (about 480 s on two
        # threads) takes longer than 600 s there.
        timeout=1800,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    # To refresh the outputs stored in the repository from a test run.
    folder = os.environ.get("KERAS_ROLEPLAY_EXECUTED_NOTEBOOKS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        nbformat.write(notebook, os.path.join(folder, os.path.basename(path)))
