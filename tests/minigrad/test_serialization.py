"""Tests of minigrad.save / minigrad.load (minigrad/serialization.py)."""
import os
import pickle

import numpy as np
import pytest

import minigrad
from minigrad import serialization
from minigrad.serialization import load, save


def nested():
    return {
        "model": {"0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
                  "0.bias": np.array([0.5, -1.5], dtype=np.float32),
                  "mask": np.array([[True, False], [False, True]])},
        "optim": {"state": {0: {"step": 3, "exp_avg": np.ones(2, dtype=np.float64)}},
                  "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                                    "nesterov": False, "name": None}]},
        "tokens": np.array([7, 1, 3], dtype=np.int64),
        "step": 3,
        "history": [0.5, float("inf")],
    }


def assert_same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def test_round_trip_keeps_structure_dtypes_and_key_types(tmp_path):
    path = tmp_path / "ckpt.npz"
    save(nested(), path)
    assert_same(load(path), nested())        # int keys stay ints, tuples stay tuples


def test_tensors_and_device_arrays_are_saved_as_host_arrays(tmp_path, device):
    t = minigrad.tensor([[1.0, 2.0]], device=device, requires_grad=True)
    path = tmp_path / "t.npz"
    save({"w": t}, path)
    loaded = load(path)["w"]
    assert isinstance(loaded, np.ndarray) and loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, [[1.0, 2.0]])
    on_device = load(path, device=device)["w"]
    np.testing.assert_array_equal(minigrad.tensor(on_device).numpy(), [[1.0, 2.0]])


def test_model_and_optimizer_state_survive_a_checkpoint(tmp_path):
    layers = pytest.importorskip("layers")
    from minigrad import optim
    model = layers.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(minigrad.randn(4, 3)).sum().backward()
    opt.step()
    save({"model": model.state_dict(), "optim": opt.state_dict(), "step": 1},
         tmp_path / "c.npz")
    ckpt = load(tmp_path / "c.npz")
    fresh = layers.Linear(3, 2)
    fresh.load_state_dict(ckpt["model"])
    fresh_opt = optim.Adam(fresh.parameters(), lr=0.5)
    fresh_opt.load_state_dict(ckpt["optim"])
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), model.weight.detach().numpy())
    assert fresh_opt.param_groups[0]["lr"] == 0.01
    assert fresh_opt.state[fresh.weight]["step"] == 1
    # optimizer state holds backend arrays (on the parameters' device): compare host copies
    to_host = minigrad.backend.to_numpy
    np.testing.assert_array_equal(to_host(fresh_opt.state[fresh.weight]["exp_avg"]),
                                  to_host(opt.state[model.weight]["exp_avg"]))


def test_refuses_a_pickle_file(tmp_path):
    path = tmp_path / "evil.npz"
    with open(path, "wb") as f:
        pickle.dump({"w": np.ones(2)}, f)
    with pytest.raises(ValueError, match="pickle"):
        load(path)


def test_refuses_object_arrays(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, __structure__=np.array('{"__array__": "x"}'),
             x=np.array([{"a": 1}], dtype=object))        # numpy pickles object arrays
    with pytest.raises(ValueError, match="pickle"):
        load(path)
    with pytest.raises(TypeError, match="Python objects"):
        save({"x": np.array([{"a": 1}], dtype=object)}, tmp_path / "no.npz")


def test_refuses_foreign_files(tmp_path):
    np.savez(tmp_path / "plain.npz", x=np.ones(2))
    with pytest.raises(ValueError, match="not a minigrad checkpoint"):
        load(tmp_path / "plain.npz")
    with pytest.raises(TypeError, match="cannot store"):
        save({"f": object()}, tmp_path / "x.npz")


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"step": 1, "w": np.zeros(3)}, path)
    before = path.read_bytes()

    def crashing_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")       # some bytes reach the disk, then...
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(serialization._host, "savez", crashing_savez)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2, "w": np.ones(3)}, path)
    assert path.read_bytes() == before
    assert load(path)["step"] == 1
    assert os.listdir(tmp_path) == ["ckpt.npz"]     # no temp file left behind
