import pytest
import torch

# The suite is thousands of small tensor operations: one thread avoids the scheduling
# overhead that dominates at these sizes (benchmarks set their own thread count).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
