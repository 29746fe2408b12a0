"""Tests of minigrad.optim: update rules vs torch.optim, clipping, schedules.

Each optimiser runs several steps where the gradient depends on the current parameters
(g = 0.1 p^3 + r_k with fixed r_k), so a wrong update at step 1 changes every later
gradient and the mismatch grows instead of hiding.
"""
import math

import numpy as np
import pytest

import minigrad
from minigrad import optim
from minigrad.nn import Parameter
from minigrad.optim import lr_scheduler

STEPS = 5


def grad_of(p_values, k, rng_seed=0):
    r = np.random.default_rng(rng_seed + k).standard_normal(p_values.shape)
    return 0.1 * p_values ** 3 + r


def make_params(device, shapes=((3, 4), (4,))):
    rng = np.random.default_rng(42)
    host = [rng.standard_normal(s) for s in shapes]
    # a copy: on the CPU minigrad.tensor(array) shares the array, and the optimiser
    # writes into it
    return host, [Parameter(minigrad.tensor(h.copy(), dtype="float64", device=device))
                  for h in host]


def run_minigrad(opt, params, steps, start=0):
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            g = grad_of(p.detach().numpy(), k, rng_seed=10 * i)
            p.grad = minigrad.tensor(g, dtype="float64", device=p.device)
        opt.step()
    return [p.detach().numpy() for p in params]


def run_torch(torch, opt, params, steps):
    for k in range(steps):
        for i, p in enumerate(params):
            p.grad = torch.tensor(grad_of(p.detach().numpy(), k, rng_seed=10 * i))
        opt.step()
    return [p.detach().numpy() for p in params]


OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
]


@pytest.mark.parametrize("name,kwargs", OPTIMIZERS)
def test_optimizer_matches_torch(device, name, kwargs):
    torch = pytest.importorskip("torch")
    host, params = make_params(device)
    ours = run_minigrad(getattr(optim, name)(params, **kwargs), params, STEPS)
    ref_params = [torch.tensor(h, requires_grad=True) for h in host]
    theirs = run_torch(torch, getattr(torch.optim, name)(ref_params, **kwargs), ref_params,
                       STEPS)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_sgd_plain_step_by_hand(device):
    p = Parameter(minigrad.tensor([1.0, -2.0], device=device))
    p.grad = minigrad.tensor([0.5, 0.5], device=device)
    optim.SGD([p], lr=0.1).step()          # p - lr g
    np.testing.assert_allclose(p.detach().numpy(), [0.95, -2.05], rtol=1e-6)


@pytest.mark.homework("hw1.adam")
def test_adam_first_step_is_lr_times_sign(device):
    # after one step, bias-corrected m / sqrt(v) = g / |g|: each weight moves by lr
    p = Parameter(minigrad.tensor([1.0, -2.0, 3.0], device=device))
    p.grad = minigrad.tensor([0.3, -4.0, 1e-3], device=device)
    optim.Adam([p], lr=0.01, eps=1e-12).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.99, -1.99, 2.99], rtol=1e-5)


def adam_by_hand(host, steps, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, decoupled=False):
    """Kingma & Ba's Algorithm 1 in NumPy, written out step by step (PyTorch's variant:
    eps added after the bias-corrected sqrt(v); AdamW decays p before the update)."""
    beta1, beta2 = betas
    out = []
    for i, p in enumerate(host):
        p = p.copy()
        m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        for k in range(steps):
            g = grad_of(p, k, rng_seed=10 * i)
            if decoupled:
                p = p * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * p
            t = k + 1
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g ** 2
            v_max = np.maximum(v_max, v)
            m_hat = m / (1 - beta1 ** t)
            v_hat = (v_max if amsgrad else v) / (1 - beta2 ** t)
            p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


@pytest.mark.homework("hw1.adam")
@pytest.mark.parametrize("name,kwargs", [
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
])
def test_adam_matches_update_formula(device, name, kwargs):
    # torch-free: the same STEPS steps as the torch comparison, against adam_by_hand
    host, params = make_params(device)
    ours = run_minigrad(getattr(optim, name)(params, **kwargs), params, STEPS)
    theirs = adam_by_hand(host, STEPS, decoupled=name == "AdamW", **kwargs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_param_groups_and_skipped_params(device):
    a = Parameter(minigrad.tensor([1.0], device=device))
    b = Parameter(minigrad.tensor([1.0], device=device))
    c = Parameter(minigrad.tensor([1.0], device=device))
    opt = optim.SGD([{"params": [a]}, {"params": [b, c], "lr": 0.5}], lr=0.1)
    a.grad = minigrad.tensor([1.0], device=device)
    b.grad = minigrad.tensor([1.0], device=device)            # c has no gradient
    opt.step()
    np.testing.assert_allclose([a.item(), b.item(), c.item()], [0.9, 0.5, 1.0], rtol=1e-6)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)


def test_update_is_in_place_on_each_param(device):
    p = Parameter(minigrad.tensor([1.0, 2.0], device=device))
    array = p.data
    p.grad = minigrad.tensor([1.0, 1.0], device=device)
    optim.Adam([p]).step()
    assert p.data is array


def test_momentum_does_not_touch_shared_gradient(device):
    # two leaves holding the very same gradient array: the momentum buffer must copy it
    a = Parameter(minigrad.tensor([1.0, 1.0], device=device))
    b = Parameter(minigrad.tensor([1.0, 1.0], device=device))
    shared = minigrad.tensor([1.0, 2.0], device=device)
    a.grad = b.grad = shared
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(shared.numpy(), [1.0, 2.0])
    # step 1 moves 0.1 g, step 2 moves 0.1 (0.9 g + g): 0.29 g in all, for both leaves
    np.testing.assert_allclose(a.detach().numpy(), [1 - 0.29, 1 - 0.58], rtol=1e-6)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy())


@pytest.mark.parametrize("name,kwargs", [("SGD", dict(lr=0.1, momentum=0.9)),
                                         ("AdamW", dict(lr=0.01, amsgrad=True))])
def test_state_dict_resumes_exactly(device, name, kwargs):
    host, params = make_params(device)
    straight = run_minigrad(getattr(optim, name)(params, **kwargs), params, 5)

    _, params = make_params(device)
    first = getattr(optim, name)(params, **kwargs)
    run_minigrad(first, params, 3)
    saved = first.state_dict()
    second = getattr(optim, name)(params, **{**kwargs, "lr": 123.0})   # lr comes back too
    second.load_state_dict(saved)
    resumed = run_minigrad(second, params, 2, start=3)
    for a, b in zip(straight, resumed):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# ---------------------------------------------------------------- clipping
def test_clip_grad_norm(device):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(4) * 5]
    params = [Parameter(minigrad.zeros(*g.shape, dtype="float64", device=device)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = minigrad.tensor(g, dtype="float64", device=device)
    total = optim.clip_grad_norm_(params, max_norm=1.0)
    expected = math.sqrt(sum((g ** 2).sum() for g in grads))      # the norm before clipping
    assert math.isclose(float(total), expected, rel_tol=1e-12)
    after = math.sqrt(sum((p.grad.numpy() ** 2).sum() for p in params))
    assert after <= 1.0 + 1e-6 and after > 0.999
    ref = [torch.zeros(g.shape, requires_grad=True, dtype=torch.float64) for g in grads]
    for p, g in zip(ref, grads):
        p.grad = torch.tensor(g)
    torch.nn.utils.clip_grad_norm_(ref, 1.0)
    for p, r in zip(params, ref):
        np.testing.assert_allclose(p.grad.numpy(), r.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_inf_and_no_op(device):
    p = Parameter(minigrad.zeros(3, device=device))
    p.grad = minigrad.tensor([0.1, -0.2, 0.05], device=device)
    assert math.isclose(float(optim.clip_grad_norm_(p, 5.0, norm_type="inf")), 0.2,
                        rel_tol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), [0.1, -0.2, 0.05])   # under the bound
    optim.clip_grad_norm_([p], 0.1, norm_type=float("inf"))
    assert np.abs(p.grad.numpy()).max() <= 0.1 + 1e-6


def test_clipping_assigns_new_arrays(device):
    a = Parameter(minigrad.zeros(2, device=device))
    b = Parameter(minigrad.zeros(2, device=device))
    shared = minigrad.tensor([3.0, 4.0], device=device)    # norm 5 per leaf
    a.grad = b.grad = shared
    total = optim.clip_grad_norm_([a, b], 1.0)
    assert math.isclose(float(total), math.sqrt(50), rel_tol=1e-6)
    # each leaf scaled once (by 1/sqrt(50)), and the shared array untouched
    np.testing.assert_allclose(a.grad.numpy(), np.array([3, 4]) / math.sqrt(50), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy())
    np.testing.assert_array_equal(shared.numpy(), [3.0, 4.0])
    optim.clip_grad_value_([a, b], 0.5)
    np.testing.assert_array_equal(shared.numpy(), [3.0, 4.0])


def test_clip_grad_value(device):
    p = Parameter(minigrad.zeros(3, device=device))
    p.grad = minigrad.tensor([-2.0, 0.3, 5.0], device=device)
    optim.clip_grad_value_([p], 1.0)
    np.testing.assert_allclose(p.grad.numpy(), [-1.0, 0.3, 1.0])


# ---------------------------------------------------------------- schedules
def lrs(scheduler, optimizer, steps):
    values = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        values.append(scheduler.get_last_lr()[0])
    return values


def one_param_sgd(lr=0.1):
    return optim.SGD([Parameter(minigrad.zeros(1))], lr=lr)


@pytest.mark.parametrize("name,kwargs,formula", [
    ("StepLR", dict(step_size=3, gamma=0.5), lambda e: 0.1 * 0.5 ** (e // 3)),
    ("LinearLR", dict(start_factor=0.25, total_iters=4),
     lambda e: 0.1 * (0.25 + 0.75 * min(e, 4) / 4)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01),
     lambda e: 0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2),
])
def test_schedules_match_formula_and_torch(name, kwargs, formula):
    opt = one_param_sgd()
    ours = lrs(getattr(lr_scheduler, name)(opt, **kwargs), opt, 10)
    np.testing.assert_allclose(ours, [formula(e) for e in range(11)], rtol=1e-12)
    torch = pytest.importorskip("torch")
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    theirs = lrs(getattr(torch.optim.lr_scheduler, name)(ref_opt, **kwargs), ref_opt, 10)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_lambda_lr_per_group():
    a, b = Parameter(minigrad.zeros(1)), Parameter(minigrad.zeros(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: e + 1])
    sched.step()
    sched.step()
    assert sched.get_last_lr() == [0.1 * 0.25, 3.0]
    assert [g["lr"] for g in opt.param_groups] == [0.1 * 0.25, 3.0]


def test_noam_schedule():
    d_model, warmup = 512, 100
    opt = one_param_sgd(lr=1.0)
    values = lrs(lr_scheduler.NoamLR(opt, d_model, warmup_steps=warmup), opt, 299)

    def rate(s):                     # eq. 3 of "Attention Is All You Need", s from 1
        return d_model ** -0.5 * min(s ** -0.5, s * warmup ** -1.5)
    np.testing.assert_allclose(values, [rate(s) for s in range(1, 301)], rtol=1e-12)
    assert int(np.argmax(values)) + 1 == warmup          # the peak is at s = warmup
    np.testing.assert_allclose(values[:warmup], np.arange(1, warmup + 1) * values[0])  # linear
    assert math.isclose(values[4 * warmup - 1 - 100], rate(3 * warmup))


def test_scheduler_state_dict_round_trip():
    opt = one_param_sgd()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    fresh = lr_scheduler.StepLR(one_param_sgd(), step_size=7)
    fresh.load_state_dict(state)
    assert fresh.last_epoch == 3 and fresh.step_size == 2
