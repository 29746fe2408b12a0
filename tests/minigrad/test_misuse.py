"""Misuse a student actually hits (issue 12): each gets a clear error or PyTorch's behaviour."""
import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.nn import Parameter


def test_requires_grad_assignment_on_an_integer_tensor_is_refused():
    t = minigrad.tensor([1, 2, 3])
    with pytest.raises(TypeError, match="only floating-point tensors can require"):
        t.requires_grad = True
    assert t.requires_grad is False
    f = minigrad.tensor([1.0, 2.0])
    f.requires_grad = True                        # floats: accepted, as in PyTorch
    assert f.requires_grad and f.is_leaf


def test_iterating_a_0d_tensor_raises_type_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError):                # the oracle: torch refuses it too
        list(torch.tensor(3.0))
    with pytest.raises(TypeError, match="0-d tensor"):
        list(minigrad.tensor(3.0))
    with pytest.raises(TypeError, match="0-d tensor"):
        for _ in minigrad.tensor(3.0):
            pass


def test_iterating_a_tensor_gives_its_rows(device):
    x = minigrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], device=device)
    rows = list(x)
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[2].numpy(), [5.0, 6.0])


@pytest.mark.parametrize("array", [np.array([1, "a"], dtype=object),
                                   np.array([{"a": 1}], dtype=object),
                                   np.array(["x", "y"])])
def test_tensors_from_object_or_string_arrays_are_refused(array):
    with pytest.raises(TypeError, match="expected numbers"):
        minigrad.Tensor(array)


def test_grad_set_to_a_numpy_array_is_converted_and_sgd_steps(device):
    p = Parameter(minigrad.tensor([1.0, 2.0], device=device))
    p.grad = np.array([0.5, -1.0])                # float64 host array, float32 parameter
    assert isinstance(p.grad, minigrad.Tensor)
    assert p.grad.dtype == p.dtype and p.grad.device == p.device
    optim.SGD([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(), [1.0 - 0.05, 2.0 + 0.1], rtol=1e-6)


def test_grad_of_the_wrong_shape_or_type_is_refused():
    p = Parameter(minigrad.zeros(3))
    with pytest.raises(RuntimeError, match="shape"):
        p.grad = np.ones(4)
    with pytest.raises(TypeError, match="expected a Tensor, an array or None"):
        p.grad = "zeros"
    p.grad = None
    assert p.grad is None


def test_setitem_on_a_tensor_that_does_not_require_grad(device):
    torch = pytest.importorskip("torch")
    expected = torch.tensor([1.0, 2.0, 3.0, 4.0])
    expected[0] = 5.0
    expected[2:] = torch.tensor([7.0, 8.0])
    x = minigrad.tensor([1.0, 2.0, 3.0, 4.0], device=device)
    x[0] = 5.0
    x[2:] = minigrad.tensor([7.0, 8.0], device=device)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    x[minigrad.tensor([1], device=device)] = 0.0       # a tensor index works too
    assert x.numpy()[1] == 0.0


def test_setitem_on_a_leaf_that_requires_grad_only_under_no_grad():
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 5.0
    with minigrad.no_grad():
        w[0] = 5.0                                # as torch: initialising a weight
    np.testing.assert_array_equal(w.detach().numpy(), [5.0, 2.0])
    y = w * 2                                     # a non-leaf: refused even under no_grad
    with minigrad.no_grad(), pytest.raises(RuntimeError, match="requires grad"):
        y[0] = 1.0


def test_backward_with_create_graph_says_higher_order_gradients_are_unsupported():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(NotImplementedError, match="higher-order gradients"):
        y.backward(create_graph=True)
    assert x.grad is None                         # nothing ran
    y.backward(create_graph=False)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert "create_graph" in minigrad.Tensor.backward.__doc__


@pytest.mark.parametrize("shape, dim", [((2, 0), -1), ((0, 3), -1), ((0, 3), 0),
                                        ((2, 0, 3), 1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_over_a_size_0_dim_is_empty_as_torch(shape, dim, name):
    torch = pytest.importorskip("torch")
    F = minigrad.nn.functional
    want = getattr(torch.nn.functional, name)(torch.zeros(shape), dim=dim)
    x = minigrad.zeros(*shape, requires_grad=True)
    with np.errstate(all="raise"):                # no warning hidden in an empty result
        y = getattr(F, name)(x, dim=dim)
        y.backward(minigrad.ones(*shape))
    assert y.shape == tuple(want.shape) and x.grad.shape == shape
