# %% [markdown]
# # Lesson 1: Tensors and autograd
#
# **Question.** How does reverse-mode automatic differentiation turn a computation into
# gradients, and can we trust the numbers it gives?
#
# A minigrad `Tensor` holds an array. When at least one input has `requires_grad=True`, every
# op also records a *node* in a graph: which Function ran and where each input came from. Calling
# `.backward()` on the result walks that graph from the output back to the inputs (the
# *leaves*), and each node's hand-written `backward` turns the gradient of its output into
# gradients of its inputs: the chain rule, one op at a time. What reaches a leaf is added to
# its `.grad`.
#
# The experiment: build a small expression, run backward, and compare every gradient with the
# derivative worked out by hand. Then look at the graph, at how gradients accumulate, and at
# a whole curve of derivatives computed in one backward.

# %%
import math

import numpy as np

import minigrad
from lessons._shared import markdown_table, setup

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("01", quick=QUICK)
plt = opts.pyplot()
TOLERANCE = 1e-6      # what "autograd equals the hand derivative" means in this lesson (float64)

# %% [markdown]
# ## 1. A small graph, and its gradients by hand
#
# $f(x, y) = \tanh(x y + x^2)$. Name the pieces as autograd sees them:
# $a = x y$, $b = x^2$, $s = a + b$, $f = \tanh(s)$. The chain rule, from the top:
#
# - $\partial f / \partial s = 1 - \tanh^2(s)$
# - $\partial f / \partial x = \partial f/\partial s \cdot (\partial a/\partial x + \partial b/\partial x) = (1 - \tanh^2 s)(y + 2x)$
# - $\partial f / \partial y = \partial f/\partial s \cdot \partial a/\partial y = (1 - \tanh^2 s)\, x$
#
# Note the *sum* in $\partial f/\partial x$: $x$ feeds two ops, and its gradient is the sum of
# what comes back along both paths. That is why the engine *adds* into `.grad`.
#
# We use float64 so that a disagreement bigger than ~1e-15 means a real mistake.

# %%
x0, y0 = 0.5, -1.5
x = minigrad.tensor(x0, dtype="float64", requires_grad=True)
y = minigrad.tensor(y0, dtype="float64", requires_grad=True)

a = x * y
b = x ** 2
s = a + b
f = minigrad.tanh(s)
f.backward()

slope = 1 - math.tanh(x0 * y0 + x0 ** 2) ** 2          # df/ds, by hand
by_hand = {"x": slope * (y0 + 2 * x0), "y": slope * x0}
by_autograd = {"x": x.grad.item(), "y": y.grad.item()}
print(f"f({x0}, {y0}) = {f.item():.6f}")

# %% [markdown]
# The same idea with arrays: a tiny layer $L = \sum_i c_i\, \sigma\big((W u + v)_i\big)$ with
# $W$ (H, D), $u$ (D,), $v$ (H,), and $c$ (H,) a fixed weighting. With $z = W u + v$ and
# $g = c \odot \sigma(z)(1 - \sigma(z))$ (H,), the chain rule gives
# $\partial L/\partial v = g$, $\partial L/\partial W = g\, u^\top$ (an outer product, (H, D)) and
# $\partial L/\partial u = W^\top g$ (D,).

# %%
H, D = 3, 4
W_np = opts.rng.standard_normal((H, D))
u_np = opts.rng.standard_normal(D)
v_np = opts.rng.standard_normal(H)
c_np = opts.rng.standard_normal(H)

W = minigrad.tensor(W_np, dtype="float64", requires_grad=True)
u = minigrad.tensor(u_np, dtype="float64", requires_grad=True)
v = minigrad.tensor(v_np, dtype="float64", requires_grad=True)
c = minigrad.tensor(c_np, dtype="float64")                 # a constant: no gradient wanted
L = (minigrad.sigmoid(W @ u + v) * c).sum()
L.backward()

z = W_np @ u_np + v_np                                     # (H,)
sig = 1 / (1 + np.exp(-z))
g = c_np * sig * (1 - sig)                                 # dL/dz, (H,)
by_hand.update({"v": g, "W": np.outer(g, u_np), "u": W_np.T @ g})
by_autograd.update({"v": v.grad.numpy(), "W": W.grad.numpy(), "u": u.grad.numpy()})

# %%
rows, errors = [], {}
for name in by_hand:
    auto, hand = np.ravel(by_autograd[name]), np.ravel(by_hand[name])
    errors[name] = float(np.max(np.abs(auto - hand)))
    shown = 3                                              # first few entries of an array
    rows.append([name, np.shape(by_hand[name]) or "scalar",
                 ", ".join(f"{value:+.6f}" for value in auto[:shown]) + (" ..." if auto.size > shown else ""),
                 ", ".join(f"{value:+.6f}" for value in hand[:shown]) + (" ..." if hand.size > shown else ""),
                 f"{errors[name]:.1e}"])
print(markdown_table(["input", "shape", "autograd", "by hand", "max |difference|"], rows))
max_error = max(errors.values())
print(f"\nLargest difference over all {sum(np.size(h) for h in by_hand.values())} gradient entries: "
      f"{max_error:.1e} -> "
      + ("autograd agrees with the hand derivatives." if max_error < TOLERANCE
         else f"DISAGREEMENT above {TOLERANCE:g}: a backward is wrong."))

# %% [markdown]
# ## 2. The graph autograd recorded
#
# `f.grad_fn` is the node of the op that made `f`. A node keeps *edges*, one per input, saying
# where that input's gradient goes: a pair `(node, output index)`, the op that made the input
# and which of its outputs it was, where a leaf tensor is its own node (`(x, 0)`: its `.grad`
# accumulates), or nowhere (`None`: a constant, or a plain number such as the 2 in `x ** 2`).
# A node does not keep its input tensors' arrays, only what its backward saved. `backward` visits the nodes in reverse topological order, without
# recursion. Here is the graph of $f$, printed from the output down; the walk uses an explicit
# stack, as the engine does.

# %%
leaf_names = {id(x): "x", id(y): "y"}
node_names = {id(t.grad_fn): n for n, t in {"a = x*y": a, "b = x**2": b, "s = a+b": s,
                                             "f = tanh(s)": f}.items()}


def graph_lines(root):
    """One line per node or leaf behind tensor ``root``, indented by its depth below it."""
    lines, stack = [], [(root.grad_fn, 0)]
    while stack:
        node, depth = stack.pop()
        indent = "    " * depth
        if isinstance(node, minigrad.Tensor):                 # a leaf is its own node
            lines.append(f"{indent}{leaf_names.get(id(node), 'leaf')}  (leaf: .grad accumulates here)")
            continue
        lines.append(f"{indent}{node_names.get(id(node), '?')}  <- {node.name}Backward")
        children = [edge[0] for edge in node.edges if edge is not None]   # (node, index)
        stack.extend((child, depth + 1) for child in reversed(children))
    return lines


# Backward freed the arrays the nodes saved, but the nodes and their edges are still there.
graph = graph_lines(f)
print("\n".join(graph))
opts.save_text("graph", "\n".join(graph))

# %% [markdown]
# `x` appears twice: once under `a` and once under `b`. Its two contributions,
# $(1-\tanh^2 s)\,y$ and $(1-\tanh^2 s)\,2x$, are summed into `x.grad`.
#
# ## 3. Gradients accumulate: why `zero_grad`
#
# Leaves *add* each backward's gradient to `.grad`; they never overwrite it. That is what makes
# the two-path sum above right, and it lets you add up gradients over several small batches.
# But it also means that a training loop which forgets to clear `.grad` between steps uses the
# sum of all past gradients. (A `Module` clears its parameters with `model.zero_grad()`; for a
# bare tensor, set `x.grad = None`.)

# %%
x.grad = y.grad = None
history = []
for step in range(3):
    minigrad.tanh(x * y + x ** 2).backward()           # a fresh graph each time
    history.append(x.grad.item())
print(markdown_table(["backward calls", "x.grad", "x.grad / (df/dx by hand)"],
                     [[k + 1, g, g / by_hand["x"]] for k, g in enumerate(history)]))
ratios = [g / by_hand["x"] for g in history]
accumulates = all(abs(r - (k + 1)) < TOLERANCE for k, r in enumerate(ratios))
print("x.grad after k backward calls is k times the gradient: "
      + ("yes, gradients accumulate." if accumulates else "no (unexpected)."))

x.grad = None                                          # what zero_grad does
minigrad.tanh(x * y + x ** 2).backward()
after_reset = x.grad.item()
print(f"after x.grad = None and one more backward: x.grad = {after_reset:.6f} "
      f"(by hand {by_hand['x']:.6f})")

# %% [markdown]
# A graph can be walked only once: backward frees the arrays each node saved (memory matters
# when the graph is a 1,000-step RNN). A second backward through the same graph is an error
# unless the first one was told `retain_graph=True`.

# %%
f = minigrad.tanh(x * y + x ** 2)
f.backward()
try:
    f.backward()
    second_backward = "no error (unexpected)"
except RuntimeError as err:
    second_backward = str(err)
print(f"second backward through the same graph: {second_backward}")

# %% [markdown]
# ## 4. A whole curve of derivatives in one backward
#
# For an elementwise function $y_i = h(x_i)$ the Jacobian is diagonal, so backward with an
# upstream gradient of ones gives $h'(x_i)$ at every point at once. We compare autograd with the
# derivatives by hand: $\sigma'(x) = \sigma(x)(1 - \sigma(x))$ and, for
# $\mathrm{gelu}(x) = x\,\Phi(x)$, $\mathrm{gelu}'(x) = \Phi(x) + x\,\varphi(x)$ with $\Phi$, $\varphi$
# the standard normal CDF and density.

# %%
points = 101 if opts.quick else 801
grid = np.linspace(-5, 5, points)
phi_cdf = np.array([0.5 * (1 + math.erf(value / math.sqrt(2))) for value in grid])
phi_pdf = np.exp(-grid ** 2 / 2) / math.sqrt(2 * math.pi)
sig_grid = 1 / (1 + np.exp(-grid))
curves = {
    "sigmoid": (minigrad.sigmoid, sig_grid, sig_grid * (1 - sig_grid)),
    "gelu": (minigrad.gelu, grid * phi_cdf, phi_cdf + grid * phi_pdf),
}
curve_errors = {}
fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True,
                         gridspec_kw={"height_ratios": [3, 1.4]})
for column, (name, (op, value_hand, slope_hand)) in enumerate(curves.items()):
    xs = minigrad.tensor(grid, dtype="float64", requires_grad=True)
    ys = op(xs)
    ys.backward(minigrad.ones_like(ys))                # upstream ones: the diagonal of the Jacobian
    slope_auto = xs.grad.numpy()
    difference = np.abs(slope_auto - slope_hand)
    curve_errors[name] = float(difference.max())

    top, bottom = axes[0, column], axes[1, column]
    top.plot(grid, ys.detach().numpy(), color="0.3", label=f"{name}(x)")
    top.plot(grid, slope_auto, color="C0", linewidth=2.5, label="derivative, autograd")
    every = max(1, points // 25)                       # ~25 markers, so the autograd line shows
    top.plot(grid[::every], slope_hand[::every], "o", color="C1", markersize=3.5, label="derivative, by hand")
    top.set_title(f"{name} and its derivative ({points} points, one backward)")
    top.set_ylabel("value (unitless)")
    top.grid(alpha=0.3)
    top.legend(loc="upper left")
    bottom.semilogy(grid, np.maximum(difference, 1e-18), color="C3", label="|autograd - by hand|")
    bottom.set_xlabel("x (unitless)")
    bottom.set_ylabel("abs. difference")
    bottom.set_ylim(1e-18, 1e-1)              # room above the curve for the legend
    bottom.grid(alpha=0.3)
    bottom.legend(loc="upper left")
fig.suptitle("Autograd derivatives against hand-derived ones (float64)")
fig.tight_layout()
opts.savefig(fig, "derivatives_autograd_vs_hand")

for name, err in curve_errors.items():
    print(f"{name}: max |autograd - by hand| over {points} points = {err:.1e}")

# %% [markdown]
# Both agree to rounding error (about 1e-16 in float64). NumPy has no `erf`, so minigrad
# computes $\Phi$ from rational approximations of it (`minigrad/ops/special.py`, as accurate as
# Python's `math.erf`), and GELU's backward is the formula above. A wrong backward shows up
# here as a difference of the size of the derivative itself, not of 1e-16.

# %%
gelu_note = ("rounding error: autograd and the hand derivative agree"
             if curve_errors["gelu"] < 1e-12 else "more than rounding: look at GELU's backward")
print(f"GELU difference {curve_errors['gelu']:.1e}: {gelu_note}.")
opts.save_json("results", {
    "point": {"x": x0, "y": y0},
    "gradients": {name: {"autograd": by_autograd[name], "by_hand": by_hand[name],
                         "max_abs_error": errors[name]} for name in by_hand},
    "max_abs_error": max_error,
    "tolerance": TOLERANCE,
    "accumulation": {"x_grad_after_each_backward": history, "ratio_to_hand": ratios,
                     "accumulates": accumulates, "after_reset": after_reset},
    "second_backward_error": second_backward,
    "curve_max_abs_error": curve_errors,
    "graph": graph,
})

# %% [markdown]
# ## What we saw
#
# - Every gradient autograd produced matches the hand-derived one to rounding error (the table
#   above); autograd is the chain rule applied node by node, nothing more.
# - The graph is recorded as the ops run; a variable used twice gets the sum of its paths.
# - `.grad` accumulates across backward calls: clear it (`zero_grad`) before each step.
#
# ## Exercises
#
# 1. Work out $\partial f/\partial x$ and $\partial f/\partial y$ by hand for
#    $f(x, y) = \log(1 + e^{x y}) / y$ at $(0.3, 2)$ and check them against autograd.
# 2. Build $f = x \cdot x \cdot x$ with three `Mul` nodes. How many times does `x` appear in the
#    graph printout? Predict `x.grad` before running it.
# 3. Compute the derivative of `minigrad.tanh` over a grid in one backward, as in section 4,
#    and plot $1 - \tanh^2$ beside it. Then pass a random upstream gradient instead of ones:
#    what does `xs.grad` hold now?
# 4. Split a batch of 8 inputs into two halves, call backward on each half's loss without
#    clearing `.grad`, and show that the result equals one backward over the whole batch's
#    summed loss.
# 5. Run `f.backward(retain_graph=True)` and then `f.backward()` again. What is `x.grad` now,
#    and why?
