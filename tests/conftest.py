"""Fixtures shared by the whole suite.

``device``: every test that takes it runs on each backend: "cpu" (NumPy), "guard" (NumPy
behind a CuPy-like wall that fails on stray numpy calls, see guard_backend.py) and "cuda"
(CuPy, skipped with its reason where CuPy or a GPU is missing).

Read tensor values in tests with ``t.numpy()`` (or ``.detach().numpy()``), never by handing
``t.data`` to numpy: on the guard and cuda backends that raises, on purpose.
"""
import os

# One BLAS thread per test process: pytest-xdist runs one process per core, and OpenBLAS
# threads on an oversubscribed machine make small matmuls tens of times slower. Set before
# NumPy loads; lesson subprocesses inherit it. (Speed is measured in benchmarks/, not here.)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import guard_backend  # noqa: F401  (registers the "guard" device)
from minigrad import backend


def _cuda_skip_reason():
    try:
        backend.get_backend("cuda")
    except RuntimeError as err:
        cause = str(err).rsplit("(", 1)[-1].rstrip(")")      # e.g. "No module named 'cupy'"
        return f"CuPy or a GPU is missing ({cause}); pip install -e '.[cuda]' on a GPU machine"
    return None


DEVICES = [
    "cpu",
    "guard",
    pytest.param("cuda", marks=pytest.mark.skipif(
        _cuda_skip_reason() is not None, reason=f"cuda: {_cuda_skip_reason()}")),
]


@pytest.fixture(params=DEVICES)
def device(request):
    """The device name a test runs on: cpu, guard, cuda."""
    return request.param


@pytest.fixture
def rng():
    """A seeded NumPy generator for host-side test data."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed_minigrad():
    import minigrad
    minigrad.manual_seed(0)
    yield
