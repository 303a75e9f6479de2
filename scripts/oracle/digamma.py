#!/usr/bin/python3
"""Exact values of digamma ψ (mpmath, 200 bits, rounded to double) at the points test/accuracy.test.ts checks: its
root x₀ = 1.4616… and its neighbours, 1 and 2 and the ends of the intervals src/ops/activations.ts `digamma` switches
at, tiny and huge arguments, and random points, log-uniform over 1e-20..1e20 and uniform over 0..20. Writes
fixtures/functions/digamma.json. With --fit, prints instead the coefficients of DIGAMMA_NEAR_ROOT: R(x) − 1 =
ψ(x)/(x − x₀) − 1 on [1, 2] as a polynomial in x − 1.5 (mpmath's chebyfit, 24 terms). Run: /usr/bin/python3
scripts/oracle/digamma.py [--fit] (Debian's python3-mpmath, which python3-torch brings).
"""
import random
import sys

import mpmath
from exact import neighbours, write

ROOT = mpmath.findroot(mpmath.digamma, mpmath.mpf("1.4616321449683622"))

if "--fit" in sys.argv:
    def r(u):
        x = mpmath.mpf(1.5) + u
        return mpmath.digamma(x) / (x - ROOT) - 1

    coefficients, error = mpmath.chebyfit(r, [-0.5, 0.5], 24, error=True)
    print("root", float(ROOT), float(ROOT - float(ROOT)), "error of the fit", mpmath.nstr(error, 3))
    print([float(c) for c in reversed(coefficients)])
    sys.exit()

points = [2.0**-1000, 1e-300, 1e-20, 1e-10, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 10.0, 16.0, 100.0, 1e15, 1e300]
for centre in [float(ROOT), 1.0, 2.0, 0.5, 10.0, 16.0]:
    points += neighbours(centre, [1e-15, 1e-12, 1e-9, 1e-6, 1e-3, 1e-2])
points += [10 ** random.uniform(-20, 20) for _ in range(500)]
points += [random.uniform(0, 20) for _ in range(1000)]

exact = [float(mpmath.digamma(mpmath.mpf(x))) for x in points]
print(f"{len(points)} points written to {write('digamma', {'x': points, 'exact': exact})}")
