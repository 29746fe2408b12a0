"""Tests of minigrad.nn.init: the distributions' bounds, means and stds.

Tolerances: for n i.i.d. samples the sample std has a relative standard error of
sqrt(1/(2n)) (normal) or sqrt(0.8/(4n)) (uniform, kurtosis 1.8); with n = 250,000 both
are below 0.15%, so 2% is a >10-sigma bound that still catches a wrong formula (the fan
formulas below give stds that differ by 10% or more).  The sample mean has standard
error std/sqrt(n) = std/500: 0.01 std is a 5-sigma bound.
"""
import math

import numpy as np
import pytest

import minigrad
from minigrad.nn import Parameter, init
from minigrad.nn.init import _calculate_fan_in_and_fan_out, calculate_gain

SHAPE = (400, 625)           # fan_out = 400, fan_in = 625: the fans differ by 56%


def param(device, shape=SHAPE):
    return Parameter(minigrad.zeros(*shape, device=device))


def test_fans():
    assert _calculate_fan_in_and_fan_out(minigrad.zeros(3, 5)) == (5, 3)
    # conv weight (out, in, kH, kW): the receptive field multiplies both fans
    assert _calculate_fan_in_and_fan_out(minigrad.zeros(4, 2, 3, 3)) == (18, 36)
    with pytest.raises(ValueError, match="at least 2 dims"):
        _calculate_fan_in_and_fan_out(minigrad.zeros(5))


def test_gains_match_torch():
    torch = pytest.importorskip("torch")
    for name, param_value in [("linear", None), ("sigmoid", None), ("tanh", None),
                              ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                              ("selu", None), ("leaky_relu", math.sqrt(5))]:
        assert math.isclose(calculate_gain(name, param_value),
                            torch.nn.init.calculate_gain(name, param_value))
    with pytest.raises(ValueError):
        calculate_gain("swish")


def test_returns_the_same_tensor_in_place(device):
    p = param(device, (3, 4))
    before = p.data
    assert init.normal_(p) is p and p.data is before     # the same array, filled in place
    assert not p.requires_grad or p.grad is None


def test_uniform_and_normal(device):
    values = init.uniform_(param(device), -2.0, 3.0).detach().numpy()
    assert values.min() >= -2.0 and values.max() < 3.0
    assert abs(values.mean() - 0.5) < 0.02          # mean (a+b)/2, std 5/sqrt(12) ~ 1.44
    values = init.normal_(param(device), 1.5, 0.5).detach().numpy()
    assert abs(values.mean() - 1.5) < 0.01 and abs(values.std() / 0.5 - 1) < 0.02


def test_constants(device):
    assert (init.constant_(param(device, (2, 3)), 0.25).detach().numpy() == 0.25).all()
    assert (init.ones_(param(device, (2, 3))).detach().numpy() == 1).all()
    p = init.normal_(param(device, (2, 3)))
    assert (init.zeros_(p).detach().numpy() == 0).all()


@pytest.mark.parametrize("mode,fan", [("fan_in", 625), ("fan_out", 400)])
@pytest.mark.parametrize("nonlinearity,a,gain", [("relu", 0, math.sqrt(2)),
                                                  ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
                                                  ("tanh", 0, 5 / 3)])
def test_kaiming(device, mode, fan, nonlinearity, a, gain):
    # He et al.: std = gain / sqrt(fan); uniform bound = sqrt(3) std
    std = gain / math.sqrt(fan)
    values = init.kaiming_uniform_(param(device), a=a, mode=mode,
                                   nonlinearity=nonlinearity).detach().numpy()
    assert np.abs(values).max() <= math.sqrt(3) * std * (1 + 1e-6)
    assert np.abs(values).max() > 0.99 * math.sqrt(3) * std       # the bound is reached
    assert abs(values.std() / std - 1) < 0.02
    values = init.kaiming_normal_(param(device), a=a, mode=mode,
                                  nonlinearity=nonlinearity).detach().numpy()
    assert abs(values.std() / std - 1) < 0.02 and abs(values.mean()) < 0.01 * std


def test_kaiming_rejects_bad_mode(device):
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(param(device, (2, 2)), mode="fan_avg")


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(device, gain):
    # Glorot & Bengio: std = gain sqrt(2 / (fan_in + fan_out)) = gain sqrt(2 / 1025)
    std = gain * math.sqrt(2 / (625 + 400))
    values = init.xavier_uniform_(param(device), gain=gain).detach().numpy()
    assert np.abs(values).max() <= math.sqrt(3) * std * (1 + 1e-6)
    assert abs(values.std() / std - 1) < 0.02
    values = init.xavier_normal_(param(device), gain=gain).detach().numpy()
    assert abs(values.std() / std - 1) < 0.02


def test_seeded(device):
    minigrad.manual_seed(11)
    first = init.normal_(param(device, (3, 3))).detach().numpy()
    minigrad.manual_seed(11)
    np.testing.assert_array_equal(init.normal_(param(device, (3, 3))).detach().numpy(), first)
