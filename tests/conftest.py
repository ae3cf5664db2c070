import os

import pytest
import torch

os.environ.setdefault("NNPRACTICE_SCALE", "cpu")


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
