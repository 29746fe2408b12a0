"""Tests of layers/dropout.py: train mode drops, eval mode is the identity."""
import numpy as np
import pytest

import minigrad
from layers import Dropout, Linear, Sequential


def test_train_and_eval(device):
    layer = Dropout(0.25)
    x = minigrad.ones(10_000, device=device)
    dropped = (layer(x).numpy() == 0).mean()
    assert abs(dropped - 0.25) < 0.025       # std of the fraction sqrt(.25*.75/1e4) ~ 0.004
    layer.eval()
    assert layer(x) is x
    layer.train()
    assert (layer(x).numpy() == 0).any()


def test_eval_propagates_through_containers(device):
    model = Sequential(Linear(4, 4, device=device), Dropout(0.9))
    model.eval()
    x = minigrad.randn(3, 4, device=device)
    np.testing.assert_array_equal(model(x).detach().numpy(), model[0](x).detach().numpy())


def test_rejects_bad_p():
    with pytest.raises(ValueError, match="Dropout"):
        Dropout(-0.1)
    assert "p=0.5" in repr(Dropout())
