#!/usr/bin/python3
"""Exact first and second derivatives (mpmath, 200 bits, rounded to double) of the functions whose derivative formula
test/accuracy.test.ts checks: the inverse functions, steep at the ends of their domains (asin, acos, atanh, acosh,
asec, acsc, asech, acoth: near ±1), at huge x (asinh, atan, acot, acsch, and asec, acsc, acoth again), tanh and coth
(their derivatives far from 0), erf (its derivative far out, where x² rounded would reach the exponential), sigmoid
(its second derivative near 0). The points: ±1 and their neighbours, tiny and huge arguments, and random points,
log-uniform over 1e-20..1e20 and 1e60..1e103, uniform over -10..10, -1..1 and ±(150..372), 1/√2 and its
neighbours; for each function those in its domain where both derivatives are normal numbers.
Writes fixtures/functions/derivatives.json. Run: /usr/bin/python3 scripts/oracle/derivatives.py (Debian's
python3-mpmath, which python3-torch brings).
"""
import math
import random

import mpmath
from exact import neighbours, write

m = mpmath


def inverse_sine(sign):
    return (lambda x: sign / m.sqrt(1 - x * x), lambda x: sign * x / (1 - x * x) ** 1.5)


FUNCTIONS = {
    # name: (first derivative, second derivative, domain)
    "asin": (*inverse_sine(1), lambda x: abs(x) < 1),
    "acos": (*inverse_sine(-1), lambda x: abs(x) < 1),
    "atanh": (lambda x: 1 / (1 - x * x), lambda x: 2 * x / (1 - x * x) ** 2, lambda x: abs(x) < 1),
    "acoth": (lambda x: 1 / (1 - x * x), lambda x: 2 * x / (1 - x * x) ** 2, lambda x: abs(x) > 1),
    "acosh": (lambda x: (x * x - 1) ** -0.5, lambda x: -x * (x * x - 1) ** -1.5, lambda x: x > 1),
    "asinh": (lambda x: (x * x + 1) ** -0.5, lambda x: -x * (x * x + 1) ** -1.5, lambda x: True),
    "atan": (lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2, lambda x: True),
    "acot": (lambda x: -1 / (1 + x * x), lambda x: 2 * x / (1 + x * x) ** 2, lambda x: True),
    # -1/(|x|·√(1 + x²)), even; its derivative is odd.
    "acsch": (
        lambda x: -1 / (abs(x) * m.sqrt(1 + x * x)),
        lambda x: m.sign(x) * (1 + 2 * x * x) / (x * x * (1 + x * x) ** 1.5),
        lambda x: x != 0,
    ),
    # |x|·√(x² − 1) = √(x⁴ − x²), and its derivative.
    "asec": (lambda x: (x**4 - x * x) ** -0.5, lambda x: -(2 * x**3 - x) / (x**4 - x * x) ** 1.5, lambda x: abs(x) > 1),
    "acsc": (lambda x: -((x**4 - x * x) ** -0.5), lambda x: (2 * x**3 - x) / (x**4 - x * x) ** 1.5, lambda x: abs(x) > 1),
    "asech": (lambda x: -((x * x - x**4) ** -0.5), lambda x: (x - 2 * x**3) / (x * x - x**4) ** 1.5, lambda x: 0 < x < 1),
    "tanh": (lambda x: m.sech(x) ** 2, lambda x: -2 * m.sech(x) ** 2 * m.tanh(x), lambda x: True),
    "coth": (lambda x: -(m.csch(x) ** 2), lambda x: 2 * m.csch(x) ** 2 * m.coth(x), lambda x: x != 0),
    "erf": (lambda x: 2 / m.sqrt(m.pi) * m.exp(-x * x), lambda x: -4 * x / m.sqrt(m.pi) * m.exp(-x * x), lambda x: True),
    # s(x)·s(-x), and its derivative -s(x)·s(-x)·tanh(x/2).
    "sigmoid": (
        lambda x: 1 / (1 + m.exp(-x)) / (1 + m.exp(x)),
        lambda x: -m.tanh(x / 2) / (1 + m.exp(-x)) / (1 + m.exp(x)),
        lambda x: True,
    ),
}

points = [1e-300, 1e-10, 1e-5, 0.5, 2.0, 5.0, 19.0, 20.0, 100.0, 1e10, 1e100, 1e200, 1e300]
points += neighbours(1.0, [1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1e-1])
points += [10 ** random.uniform(-20, 20) for _ in range(100)]
points += [random.uniform(0, 10) for _ in range(100)]
points += [random.uniform(0, 1) for _ in range(100)]
# Where 1/u with u past 1e154 (|x| past 1e77) and 1/cosh² past 236 underflowed in a second derivative still normal.
points += [10 ** random.uniform(60, 103) for _ in range(100)]
points += [random.uniform(150, 372) for _ in range(100)]
# Near 1/√2, the zero of asech″.
points += neighbours(2**-0.5, [1e-15, 1e-12, 1e-9, 1e-6, 1e-3])
points += [-x for x in points]


def normal(v):
    return math.isfinite(v) and (v == 0 or abs(v) >= 2.0**-1022)


values = {}
for name, (first, second, defined) in FUNCTIONS.items():
    at, exact1, exact2 = [], [], []
    for x in points:
        if not defined(x):
            continue
        d1, d2 = float(first(m.mpf(x))), float(second(m.mpf(x)))
        if normal(d1) and normal(d2):
            at.append(x)
            exact1.append(d1)
            exact2.append(d2)
    values[name] = {"x": at, "first": exact1, "second": exact2}
path = write("derivatives", values)
print(", ".join(f"{name}: {len(v['x'])}" for name, v in values.items()), "points written to", path)
