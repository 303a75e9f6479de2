#!/usr/bin/python3
"""Exact values of log Γ (mpmath, 200 bits, rounded to double) at the points test/functions.test.ts
checks: 1 and 2 (where log Γ is 0) and their neighbours, the ends of the intervals a log Γ in the manner of fdlibm
switches at, and random points, log-uniform over 1e-20..1e20 and uniform over 0..10. Writes
fixtures/functions/lgamma.json. Run: /usr/bin/python3 scripts/oracle/lgamma.py (Debian's python3-mpmath, which
python3-torch brings).
"""
import random

import mpmath
from exact import neighbours, write

points = [2.0**-70, 2.0**-71, 5e-324, 1e-300, 1e-10, 0.5, 1.5, 2.5, 3.0, 4.0, 8.0, 10.0, 100.0, 1e15, 2.0**58, 1e300]
# Each centre and its neighbours: 1 and 2 (the zeros), the minimum of Γ, and the interval ends (about 0.23, 0.73,
# 0.9, 1.23, 1.73, 8 and 2^58).
for centre in [1.0, 2.0, 1.4616321449683622, 0.2316, 0.7316, 0.9, 1.2316, 1.7316, 3.0, 8.0, 2.0**58]:
    points += neighbours(centre, [1e-12, 1e-9, 1e-6, 1e-3])
points += [10 ** random.uniform(-20, 20) for _ in range(500)]
points += [random.uniform(0, 10) for _ in range(500)]

exact = [float(mpmath.loggamma(mpmath.mpf(x))) for x in points]
print(f"{len(points)} points written to {write('lgamma', {'x': points, 'exact': exact})}")
