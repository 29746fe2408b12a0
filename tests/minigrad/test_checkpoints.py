"""Checkpoints a student or an attacker hands to minigrad.load (issue 12), and state dicts.

Anchor: safetensors' discipline (no pickle, sizes checked before anything is read).
"""
import io
import os
import stat
import zipfile

import numpy as np
import pytest

import minigrad
from minigrad import serialization
from minigrad.serialization import load, save


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.npz"
    save({"w": np.arange(1000, dtype=np.float32), "step": 3}, path)
    return path


def _load_error(path, **kwargs):
    with pytest.raises(ValueError) as info:
        load(path, **kwargs)
    assert str(path) in str(info.value)               # the error names the file
    return str(info.value)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    assert "empty" in _load_error(path)


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_file(good, keep):
    data = good.read_bytes()
    good.write_bytes(data[:int(len(data) * keep)])
    assert "truncated" in _load_error(good)


def test_corrupted_member_bytes(good):
    data = bytearray(good.read_bytes())
    start = data.index(b"\x93NUMPY", data.index(b"\x93NUMPY") + 1)   # the second member
    data[start:start + 6] = b"garbag"                # its .npy magic
    good.write_bytes(bytes(data))
    _load_error(good)


def test_corrupted_array_data_is_caught_by_the_crc(good):
    data = bytearray(good.read_bytes())
    i = data.index(np.arange(1000, dtype=np.float32)[500:502].tobytes())
    data[i] ^= 0xFF                                  # one flipped byte in the weights
    good.write_bytes(bytes(data))
    assert "CRC" in _load_error(good) or "Bad" in _load_error(good)


def test_text_file_is_not_called_pickled(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("epoch 3: loss 0.12\n")
    message = _load_error(path)
    assert "text file" in message and "pickle" not in message


@pytest.mark.parametrize("what", ["plain_npz", "single_npy", "random_bytes"])
def test_files_not_written_by_minigrad(tmp_path, what):
    path = tmp_path / "other.npz"
    if what == "plain_npz":
        np.savez(path, x=np.ones(2))
    elif what == "single_npy":
        with open(path, "wb") as f:
            np.save(f, np.ones(2))
    else:
        path.write_bytes(np.random.default_rng(0).bytes(300).replace(b"PK", b"pk"))
    assert "not a minigrad checkpoint" in _load_error(path)


@pytest.mark.parametrize("structure", ["{not json", '{"__array__": "missing"}',
                                       "[" * 100_000 + "]" * 100_000,
                                       '{"__dict__": [["a", {"__set__": 1}]]}'])
def test_bad_structure_entries(tmp_path, structure):
    path = tmp_path / "bad.npz"
    np.savez(path, __structure__=np.array(structure))
    assert "not a minigrad checkpoint" in _load_error(path)


def test_pickled_content_is_still_called_pickled(tmp_path):
    import pickle
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"w": np.ones(2)}))
    assert "pickle" in _load_error(path)


def test_zip_bomb_is_refused_before_expanding(tmp_path, monkeypatch):
    path = tmp_path / "bomb.npz"
    np.savez_compressed(path, __structure__=np.array('{"__array__": "z"}'),
                        z=np.zeros(8 << 20, dtype=np.float32))     # 32 MiB of zeros
    assert path.stat().st_size < (1 << 20)         # ~30 KiB on disk
    read = []
    monkeypatch.setattr(serialization, "_read_member",
                        lambda *a: read.append(a) or np.zeros(0))
    message = _load_error(path)
    assert "declare" in message and "max_bytes" in message and not read
    monkeypatch.undo()
    assert load(path, max_bytes=64 << 20).shape == (8 << 20,)   # trusted: a larger limit


def test_an_npy_header_larger_than_its_member_is_refused(tmp_path):
    path = tmp_path / "liar.npz"
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 9,)})   # 8 GB declared
    buffer.write(b"\0" * 64)
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("__structure__.npy", "w") as f:
            np.save(f, np.array('{"__array__": "x"}'))
        archive.writestr("x.npy", buffer.getvalue())
    assert "declares an array of 8000000000 bytes" in _load_error(path)


def test_foreign_members_are_refused_not_returned_as_bytes(tmp_path):
    path = tmp_path / "foreign.npz"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("__structure__.npy", "w") as f:
            np.save(f, np.array('{"__array__": "x"}'))
        archive.writestr("x", b"raw bytes, not an array")
    assert "not .npy arrays" in _load_error(path)


def test_interrupted_save_leaves_no_temp_file_and_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"step": 1}, path)

    def interrupted(file, **arrays):
        file.write(b"PK\x03\x04 part")
        raise KeyboardInterrupt

    monkeypatch.setattr(serialization._host, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save({"step": 2}, path)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]
    assert load(path)["step"] == 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saving_over_a_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "shared.npz"
    save({"step": 1}, path)
    os.chmod(path, 0o640)
    save({"step": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and load(path)["step"] == 2
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.npz"
    save({"step": 1}, fresh)                        # a new file: as open() would make it
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


# ---------------------------------------------------------------- state dicts
def _two_linears():
    layers = pytest.importorskip("layers")
    return layers.Sequential(layers.Linear(3, 4), layers.Linear(4, 2))


def test_state_dict_values_are_detached_tensors_that_numpy_works_on():
    model = _two_linears()
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    params = dict(model.named_parameters())
    for key, value in sd.items():
        assert isinstance(value, minigrad.Tensor) and not value.requires_grad
        assert value.is_leaf and value.device == params[key].device    # stays where it is
        np.testing.assert_array_equal(value.numpy(), params[key].detach().numpy())
    before = sd["0.bias"].numpy().copy()
    with minigrad.no_grad():
        model[0].bias[0] = 123.0                    # the model changes; the snapshot not
    np.testing.assert_array_equal(sd["0.bias"].numpy(), before)


def test_state_dict_round_trips_through_save_and_load(tmp_path):
    model, fresh = _two_linears(), _two_linears()
    save({"model": model.state_dict()}, tmp_path / "m.npz")
    fresh.load_state_dict(load(tmp_path / "m.npz")["model"])     # NumPy arrays
    for (k, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    other = _two_linears()
    other.load_state_dict(model.state_dict())                    # Tensors
    np.testing.assert_array_equal(other[1].weight.detach().numpy(),
                                  model[1].weight.detach().numpy())


@pytest.mark.parametrize("bad", ["shape", "strings", "object", "missing"])
def test_load_state_dict_is_all_or_nothing(bad):
    model, source = _two_linears(), _two_linears()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    sd = {k: v.numpy() for k, v in source.state_dict().items()}
    if bad == "shape":
        sd["1.bias"] = np.zeros(3, dtype=np.float32)
    elif bad == "strings":
        sd["1.bias"] = np.array(["a", "b"])
    elif bad == "object":
        sd["1.bias"] = [object(), object()]
    else:
        del sd["1.bias"]
    with pytest.raises(RuntimeError, match="1.bias"):
        model.load_state_dict(sd)
    for key, value in model.state_dict().items():   # not one parameter was overwritten
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_load_state_dict_copies_the_callers_arrays():
    model = _two_linears()
    sd = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    model.load_state_dict(sd)
    sd["0.bias"][:] = 7.0
    assert not (model[0].bias.detach().numpy() == 7.0).any()
