#!/usr/bin/python3
"""Exact values (mpmath, 200 bits, rounded to double) of the functions of 1/x and of 1/cosh, 1/sinh that
test/accuracy.test.ts checks: asec, acsc, acoth, asech, acsch, sech, csch, at ±1 and their neighbours (where the
inverse functions of 1/x are infinitely steep), at ±2 (where src/ops/elementwise.ts changes formula), at subnormal and
huge arguments, past 700 (where cosh and sinh overflow and 2e^-|x| does not yet underflow), and at random points,
log-uniform over 1e-20..1e20 and uniform over -10..10 and -1..1. Points outside a function's domain, or where its value overflows, are left out. Writes
fixtures/functions/reciprocal.json. Run: /usr/bin/python3 scripts/oracle/reciprocal.py (Debian's python3-mpmath,
which python3-torch brings).
"""
import math
import random

import mpmath
from exact import neighbours, write

FUNCTIONS = {
    "asec": (lambda x: mpmath.acos(1 / x), lambda x: abs(x) >= 1),
    "acsc": (lambda x: mpmath.asin(1 / x), lambda x: abs(x) >= 1),
    "acoth": (lambda x: mpmath.atanh(1 / x), lambda x: abs(x) > 1),
    "asech": (lambda x: mpmath.acosh(1 / x), lambda x: 0 < x <= 1),
    "acsch": (lambda x: mpmath.asinh(1 / x), lambda x: x != 0),
    "sech": (mpmath.sech, lambda x: True),
    "csch": (mpmath.csch, lambda x: x != 0),
}


points = [5e-324, 1e-320, 2.0**-1022, 2.0**-1000, 1e-300, 1e-10, 0.5, 3.0, 10.0, 1e10, 1e300, 1.7976931348623157e308]
for centre in [1.0, 2.0, 700.0, 710.0, 745.0]:
    points += [centre, *neighbours(centre, [1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1e-1])]
points += [10 ** random.uniform(-20, 20) for _ in range(150)]
points += [random.uniform(0, 10) for _ in range(150)]
points += [random.uniform(0, 1) for _ in range(150)]
points += [-x for x in points]

values = {}
for name, (f, defined) in FUNCTIONS.items():
    exact = {x: float(f(mpmath.mpf(x))) for x in points if defined(x)}
    at = [x for x in points if x in exact and math.isfinite(exact[x])]
    values[name] = {"x": at, "exact": [exact[x] for x in at]}
path = write("reciprocal", values)
print(", ".join(f"{name}: {len(v['x'])}" for name, v in values.items()), "points written to", path)
