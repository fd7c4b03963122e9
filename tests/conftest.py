import os
from collections.abc import Iterator

import pytest
import torch
from hypothesis import settings

# Property tests draw the same examples on every run (a CI run cannot turn red by luck);
# ``HYPOTHESIS_PROFILE=explore`` draws fresh ones, e.g. with ``FUZZ_EXAMPLES=30000``.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# The suite is thousands of small tensor operations: one thread avoids the scheduling
# overhead that dominates at these sizes (benchmarks set their own thread count).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Every test starts on one thread, whatever a test before it set (the CLI's
    ``--threads``, say): intra-op threads on tiny tensors only add synchronisation,
    which stalls badly on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
