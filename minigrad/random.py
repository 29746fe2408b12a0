"""Random numbers per device, seeded together by ``minigrad.manual_seed``.

Each backend has its own generator (``xp.random.RandomState``, which NumPy and CuPy both
provide), created on first use, so a CPU run and a GPU run are each reproducible.
"""
from . import backend

__all__ = ["manual_seed", "generator", "initial_seed"]

_seed = {"value": 0}
_generators = {}


def manual_seed(seed):
    """Seed every device's generator (those made later, too)."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    _seed["value"] = seed
    _generators.clear()


def initial_seed():
    return _seed["value"]


def generator(device=None):
    """The RandomState of ``device`` (the default device when None)."""
    name = backend.get_backend(device).name
    if name not in _generators:
        xp = backend.get_backend(name).xp
        _generators[name] = xp.random.RandomState(_seed["value"])
    return _generators[name]
