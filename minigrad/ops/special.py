"""erf, the error function, which NumPy does not have (GELU is built on it).

    erf(x) = 2/sqrt(pi) * integral from 0 to x of exp(-t^2) dt
    d erf(x)/dx = 2/sqrt(pi) exp(-x^2)

``erf_values`` computes it from the rational approximations of S. L. Moshier's Cephes
library (the ones behind SciPy's erf): erf(x) = x T(x^2) / U(x^2) for |x| <= 1; beyond,
erf(x) = sign(x) (1 - erfc(|x|)) with erfc(a) = exp(-a^2) P(a) / Q(a) for a < 8 and
exp(-a^2) R(a) / S(a) from 8 on.  In float64 that is math.erf to rounding (the tests compare
them), in float32 to float32's; it runs on any backend, as it uses only xp's arithmetic.
"""
from .. import backend
from ..function import Function

__all__ = ["erf", "erf_values"]

# Coefficients from the highest power down; the monic denominators carry their leading 1.
_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
      7.00332514112805075473e3, 5.55923013010394962768e4)
_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
      2.26290000613890934246e4, 4.92673942608635921086e4)
_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
      4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
      9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
      9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
      1.65666309194161350182e3, 5.57535340817727675546e2)
_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
      6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
      1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)

TWO_OVER_SQRT_PI = 1.1283791670955126


def _horner(x, coefficients):
    """c0 x^n + c1 x^(n-1) + ... + cn, evaluated from the inside out (in place: one array)."""
    result = x * coefficients[0]
    result += coefficients[1]
    for c in coefficients[2:]:
        result *= x
        result += c
    return result


# On the CPU a large array is done in pieces of this many elements (1 MiB of float32): the
# ~60 passes over each piece then run in the core's cache, not in memory (2x faster at 2M).
CPU_PIECE = 1 << 18


def erf_values(xp, x):
    """erf of every element of backend array ``x`` (float32 or float64), same shape and dtype."""
    flat = x.reshape(-1)              # 1-d: NumPy's ops on 0-d arrays give scalars, not arrays
    if flat.size <= CPU_PIECE or xp is not backend.CPU.xp:
        return _erf(xp, flat).reshape(x.shape)
    out = xp.empty_like(flat)
    for start in range(0, flat.size, CPU_PIECE):
        out[start:start + CPU_PIECE] = _erf(xp, flat[start:start + CPU_PIECE])
    return out.reshape(x.shape)


def _erf(xp, x):
    ax = xp.abs(x)
    near = xp.clip(x, -1.0, 1.0)                   # each branch sees its own range only:
    z = near * near                                # no overflow in the one not taken
    out = _horner(z, _T)
    out /= _horner(z, _U)
    out *= near                                    # erf where |x| <= 1 (NaN stays NaN)
    far = ax > 1
    if far.any():                                  # GELU's inputs mostly are not
        a = xp.clip(ax, 1.0, 30.0)                 # erfc(a) underflows to 0 long before 30
        erfc = _horner(a, _P)
        erfc /= _horner(a, _Q)                     # 1 < a < 8
        if (a >= 8).any():
            erfc = xp.where(a < 8, erfc, _horner(a, _R) / _horner(a, _S))
        a *= a
        erfc *= xp.exp(xp.negative(a, out=a), out=a)   # times exp(-a^2)
        erf_far = xp.copysign(1 - erfc, x)          # erf(-x) = -erf(x)
        xp.copyto(out, erf_far, where=far)
    return out


class Erf(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_values(ctx.xp, x)

    @staticmethod
    def backward(ctx, grad):        # d erf(x)/dx = 2/sqrt(pi) exp(-x^2)
        (x,) = ctx.saved
        return grad * (TWO_OVER_SQRT_PI * ctx.xp.exp(-x * x))


def erf(x):
    """The error function, elementwise (``torch.erf``)."""
    return Erf.apply(x)
