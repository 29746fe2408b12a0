"""Two elementwise ops, forward and backward side by side."""
import numpy as np


def square_backward(x, grad):
    """d(x^2)/dx = 2x; x, grad: any shape."""
    ### BEGIN SOLUTION hw1.square
    ### TODO: the gradient of x^2 times grad, same shape as x.
    grad_x = grad * 2.0 * x
    return grad_x
    ### END SOLUTION


def tanh_forward(x):
    y = np.tanh(x)
    return y, y


def tanh_backward(grad, y):
    """grad, y: same shape; y = tanh(x) saved by the forward."""
    ### BEGIN SOLUTION hw1.tanh
    ### TODO: d tanh(x)/dx = 1 - tanh(x)^2;
    ### use the saved y.
    scale = 1.0 - y * y
    return grad * scale
    ### END SOLUTION
