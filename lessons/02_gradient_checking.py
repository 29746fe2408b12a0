# %% [markdown]
# # Lesson 2: Gradient checking
#
# **Question.** Every op in minigrad has a hand-written backward. How do we know a backward pass
# is right?
#
# We compare it with a gradient we can compute without any backward at all: nudge one input
# element up and down by a small step $\varepsilon$ and watch the output move. With central
# differences,
#
# $$\frac{\partial L}{\partial x_i} \approx \frac{L(x + \varepsilon e_i) - L(x - \varepsilon e_i)}{2\varepsilon},$$
#
# where the error is $O(\varepsilon^2)$ (the $\varepsilon^1$ terms of the two Taylor series
# cancel). We measure the disagreement with the *relative error*
# $\max_i |a_i - n_i| / (|a_i| + |n_i|)$: 0 when equal, about 1 when unrelated, and independent
# of the gradient's scale.
#
# Three experiments: (1) how small should $\varepsilon$ be, and why the check needs float64;
# (2) `minigrad.gradcheck` on Functions we write ourselves, two of them broken on purpose;
# (3) why the check must use a random upstream gradient, not all ones.

# %%
import numpy as np

import minigrad
from minigrad import Function, GradcheckError, gradcheck, numerical_grad, rel_error
from lessons._shared import markdown_table, setup

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("02", quick=QUICK)
plt = opts.pyplot()

# %% [markdown]
# ## 1. The step size, in float32 and float64
#
# Our test function: $y = \tanh(W x)$ with $W$ (H, D) fixed and $x$ (D,) the input, and the
# scalar $L = \sum_h R_h\, y_h$ for a fixed random upstream gradient $R$ (H,). The reference
# gradient is autograd's, computed in float64. The numeric one is `minigrad.numerical_grad`,
# evaluated in float32 or float64, for step sizes from 1 down to 1e-12.
#
# Two errors compete. *Truncation*: central differences drop a term $f''' \varepsilon^2 / 6$, so
# large steps are wrong by $O(\varepsilon^2)$. *Rounding*: $L$ itself is only known to about
# $u |L|$, with $u$ the machine epsilon (1.2e-7 in float32, 2.2e-16 in float64); dividing
# that noise by $2\varepsilon$ gives an error $O(u/\varepsilon)$ that grows as the step shrinks.
# The sum is a V, whose bottom lies near $\varepsilon \approx u^{1/3}$.

# %%
D, H = 6, 5
W_host = opts.rng.standard_normal((H, D)) / np.sqrt(D)
x_host = opts.rng.standard_normal(D)
R_host = opts.rng.standard_normal(H)

x64 = minigrad.tensor(x_host, dtype="float64", requires_grad=True)
y64 = minigrad.tanh(minigrad.tensor(W_host, dtype="float64") @ x64)
y64.backward(minigrad.tensor(R_host, dtype="float64"))
reference = x64.grad.detach()                      # autograd, float64: the yardstick

steps = np.logspace(0, -12, 25 if opts.quick else 49)
sweep = {}
for dtype in ("float32", "float64"):
    W = minigrad.tensor(W_host, dtype=dtype)
    x = minigrad.tensor(x_host, dtype=dtype, requires_grad=True)
    upstream = [minigrad.tensor(R_host, dtype=dtype).data]
    errors = [rel_error(numerical_grad(lambda x: minigrad.tanh(W @ x), [x], eps=float(eps),
                                       upstream=upstream)[0], reference)
              for eps in steps]
    best = int(np.argmin(errors))
    unit = float(np.finfo(dtype).eps)
    sweep[dtype] = {"eps": steps, "rel_error": errors, "best_eps": float(steps[best]),
                    "best_rel_error": float(errors[best]), "machine_eps": unit,
                    "predicted_best_eps": unit ** (1 / 3)}

print(markdown_table(
    ["dtype", "machine eps u", "predicted best step u^(1/3)", "measured best step", "smallest relative error"],
    [[d, f"{s['machine_eps']:.1e}", f"{s['predicted_best_eps']:.0e}", f"{s['best_eps']:.0e}",
      f"{s['best_rel_error']:.1e}"] for d, s in sweep.items()]))
ratio = sweep["float32"]["best_rel_error"] / sweep["float64"]["best_rel_error"]
at_default = {d: s["rel_error"][int(np.argmin(np.abs(np.log10(steps) + 6)))] for d, s in sweep.items()}
print(f"\nThe best float64 check is {ratio:.0e} times more precise than the best float32 one.")
print(f"At gradcheck's default step 1e-6: float64 relative error {at_default['float64']:.1e}, "
      f"float32 {at_default['float32']:.1e}"
      + (" (float32 cannot tell a correct backward from a wrong one at this step)."
         if at_default["float32"] > 1e-2 else "."))

# %%
fig, ax = plt.subplots(figsize=(8, 5.2))
for color, (dtype, s) in zip(("C3", "C0"), sweep.items()):
    ax.loglog(steps, s["rel_error"], "o-", color=color, markersize=4, label=f"{dtype}, measured")
    ax.loglog(steps, s["machine_eps"] / steps, ":", color=color,
              label=f"{dtype} rounding, u/eps (u = {s['machine_eps']:.1e})")
    ax.axvline(s["predicted_best_eps"], color=color, alpha=0.25, linewidth=6)
# Truncation O(eps^2), anchored at the float64 error at the largest step (both dtypes share it).
anchor = sweep["float64"]["rel_error"][0] / steps[0] ** 2
ax.loglog(steps, anchor * steps ** 2, "--", color="0.4", label="truncation, proportional to eps^2")
ax.set_ylim(1e-13, 3)
ax.set_xlabel("finite-difference step eps (same units as x, unitless here)")
ax.set_ylabel("relative error, numeric vs autograd (unitless)")
ax.set_title("Central differences: truncation against rounding\n"
             "(shaded bars: predicted best step u^(1/3) for each dtype)")
ax.invert_xaxis()
ax.grid(alpha=0.3, which="both")
ax.legend(loc="lower left", fontsize=8)
opts.savefig(fig, "rel_error_vs_step")

# %% [markdown]
# Reading the V from the right: shrinking the step first removes truncation error
# ($\propto\varepsilon^2$, slope 2), until rounding takes over ($\propto u/\varepsilon$).
# How small a bug can each check see? A backward off by a factor $1 + \delta$ has relative
# error about $\delta/2$, so a check sees bugs down to roughly twice its own error floor, and
# only at a step near the bottom of its V. In float32 that bottom is high, and it moves with
# the function being checked; at a fixed step such as 1e-6 float32 is on the rounding branch.
# The numbers of this run:

# %%
for dtype, s in sweep.items():
    print(f"{dtype}: error floor {s['best_rel_error']:.1e} at step {s['best_eps']:.0e}: sees a "
          f"backward off by a factor 1 + {2 * s['best_rel_error']:.0e} or more at that step; "
          f"at step 1e-6, off by 1 + {min(2 * at_default[dtype], 2.0):.0e} or more.")

# %% [markdown]
# That is why `gradcheck` demands float64 inputs:

# %%
try:
    gradcheck(lambda x: minigrad.tanh(x), [minigrad.tensor(x_host, dtype="float32", requires_grad=True)])
    float32_refusal = "accepted (unexpected)"
except TypeError as err:
    float32_refusal = str(err)
print(float32_refusal)

# %% [markdown]
# ## 2. `gradcheck` on Functions we write ourselves
#
# A minigrad op is a `Function` with `forward` and `backward` side by side (see
# `minigrad/function.py`). Here are two, each written correctly and once with a typical bug:
#
# - **SiLU** $y = x\,\sigma(x)$. By the product rule
#   $y' = \sigma(x) + x\,\sigma(x)(1 - \sigma(x)) = \sigma(x)\,(1 + x(1 - \sigma(x)))$.
#   The broken version drops the factor $(1 - \sigma(x))$.
# - **MatMul** $C = A B$ with A (N, D), B (D, H). $\partial L/\partial A = G B^\top$ and
#   $\partial L/\partial B = A^\top G$ for the upstream gradient $G$ (N, H). The broken version
#   reads the upstream gradient transposed, $G^\top$: the shapes still fit when N = H, so
#   nothing complains.

# %%
class SiLU(Function):
    """y = x sigmoid(x), elementwise."""

    @staticmethod
    def forward(ctx, x):                       # x: any shape
        s = 0.5 * (1 + ctx.xp.tanh(0.5 * x))   # sigmoid(x), no overflow for x << 0
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad):                   # dy/dx = s (1 + x (1 - s))
        x, s = ctx.saved
        return grad * s * (1 + x * (1 - s))


class SiLUMissingFactor(SiLU):
    """The same forward; the backward forgets the (1 - s) of sigmoid's derivative."""

    @staticmethod
    def backward(ctx, grad):
        x, s = ctx.saved
        return grad * s * (1 + x)              # BUG: should be s (1 + x (1 - s))


class MatMul(Function):
    """C = A @ B, A (N, D), B (D, H) -> C (N, H)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):                   # grad: (N, H)
        a, b = ctx.saved
        return grad @ b.T, a.T @ grad          # (N, H)(H, D) -> (N, D); (D, N)(N, H) -> (D, H)


class MatMulTransposedGrad(MatMul):
    """The same forward; the backward uses the upstream gradient transposed."""

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        return grad.T @ b.T, a.T @ grad.T      # BUG: G^T in place of G (shapes fit when N = H)


N, D = 4, 3                                    # C is (N, N): square, so the bug's shapes fit
A = minigrad.tensor(opts.rng.standard_normal((N, D)), dtype="float64", requires_grad=True)
B = minigrad.tensor(opts.rng.standard_normal((D, N)), dtype="float64", requires_grad=True)
z = minigrad.tensor(opts.rng.standard_normal((3, 4)) * 2, dtype="float64", requires_grad=True)
cases = {"SiLU": (SiLU.apply, [z]), "SiLUMissingFactor": (SiLUMissingFactor.apply, [z]),
         "MatMul": (MatMul.apply, [A, B]), "MatMulTransposedGrad": (MatMulTransposedGrad.apply, [A, B])}

checks = {}
for name, (fn, inputs) in cases.items():
    try:
        gradcheck(fn, inputs)
        checks[name] = {"passed": True, "message": ""}
    except GradcheckError as err:
        checks[name] = {"passed": False, "message": str(err)}
for name, result in checks.items():
    print(f"{name:22s} {'passed' if result['passed'] else 'FAILED: ' + result['message']}")

# %% [markdown]
# A failure names the input (0 is the first argument), the index of the worst element, the
# analytic and numeric values there, their relative error, and how many elements are off.
# That is usually enough to find the bug. The broken SiLU is off by exactly the term it lost,
# $x\,\sigma(x)^2$ per element; the broken MatMul is off almost everywhere (see the count in its message).
#
# ## 3. Why the upstream gradient must be random
#
# Checking $L = \sum y$ (an upstream gradient of all ones) is tempting and common. But the
# transposed matmul bug replaces $G$ with $G^\top$, and a square matrix of ones *is* its own
# transpose: with all ones the broken backward returns exactly the right numbers. Here is the
# relative error of each backward against central differences, for both upstream gradients.

# %%
def upstream_error(fn, inputs, upstream):
    """Relative error (worst input) of the backward of fn against central differences."""
    for t in inputs:
        t.grad = None
    out = fn(*inputs)
    out.backward(minigrad.tensor(upstream, dtype="float64"))
    numeric = numerical_grad(fn, inputs, upstream=[minigrad.tensor(upstream, dtype="float64").data])
    error = max(rel_error(t.grad, n) for t, n in zip(inputs, numeric))
    for t in inputs:
        t.grad = None
    return error


upstream_rows, upstream_errors = [], {}
for name, (fn, inputs) in cases.items():
    with minigrad.no_grad():
        shape = fn(*inputs).shape
    ones, random = np.ones(shape), opts.rng.standard_normal(shape)
    upstream_errors[name] = {"ones": upstream_error(fn, inputs, ones),
                             "random": upstream_error(fn, inputs, random)}
    upstream_rows.append([name, f"{upstream_errors[name]['ones']:.1e}",
                          f"{upstream_errors[name]['random']:.1e}"])
print(markdown_table(["Function", "rel. error, upstream all ones", "rel. error, random upstream"],
                     upstream_rows))
hidden = upstream_errors["MatMulTransposedGrad"]
print(f"\nTransposed-gradient bug: all-ones upstream gives {hidden['ones']:.1e} "
      + ("(looks correct: the bug is hidden)" if hidden["ones"] < 1e-6 else "(caught)")
      + f", random upstream gives {hidden['random']:.1e} "
      + ("(caught)." if hidden["random"] > 1e-3 else "(missed)."))

# %%
opts.save_json("results", {
    "eps_sweep": sweep,
    "float32_best_rel_error": sweep["float32"]["best_rel_error"],
    "float64_best_rel_error": sweep["float64"]["best_rel_error"],
    "float32_refusal": float32_refusal,
    "gradcheck": checks,
    "upstream_errors": upstream_errors,
})

# %% [markdown]
# ## What we saw
#
# - Central differences are a reliable yardstick only in float64 and with a step near 1e-6:
#   the error curve is a V of truncation ($\varepsilon^2$) against rounding ($u/\varepsilon$).
# - `gradcheck` passes correct backwards and names the input, element and values of a wrong one.
# - An all-ones upstream gradient can hide a wrong backward completely; a random one cannot.
#   (minigrad's `gradcheck` always uses a random one.)
#
# ## Exercises
#
# 1. Replace the central difference by the one-sided $(L(x + \varepsilon e_i) - L(x))/\varepsilon$
#    and redo the sweep. What is the slope of the truncation branch now, and where is the best step?
# 2. Write a `Function` for $y = \log(1 + e^x)$ (softplus) that does not overflow for large $x$,
#    and gradcheck it at inputs between -30 and 30.
# 3. Break `MatMul` differently: return `a.T @ grad` transposed, `(a.T @ grad).T`, with D = H.
#    Does an all-ones upstream hide this bug too? Explain with the shapes and the algebra.
# 4. gradcheck `minigrad.relu` at an input of exactly 0. What happens, and why is it not a bug?
# 5. How many forward passes does `numerical_grad` make for an input of shape (64, 128)? Why does
#    that make gradient checks a tool for small test shapes, not for training-size tensors?
