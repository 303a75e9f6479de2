#!/usr/bin/python3
"""Exact values of e^x (mpmath, 200 bits) at the points test/accuracy.test.ts checks: each as the nearest double
and the double nearest what that rounding left out, so that errors below an ulp can be measured. Random points over
the whole range, near 0 and log-uniform in size, the points where the table's reduction changes its step
((m + 1/2)·ln 2/128) and their neighbours, and the ends where Math.exp takes over (±708, overflow, subnormal
results). Writes fixtures/functions/exp.json. Run: /usr/bin/python3 scripts/oracle/exp.py
"""
import math
import random

import mpmath
from exact import neighbours, write

points = [0.0, 1.0, -1.0, 0.5, 2.0**-54, -(2.0**-54), 2.0**-60, 1e-300, 5e-324, 708.0, -708.0, 709.78, -745.0]
points += [random.uniform(-708, 708) for _ in range(600)]
points += [random.uniform(-1, 1) for _ in range(300)]
points += [sign * 10 ** random.uniform(-20, math.log10(700)) for sign in (1, -1) for _ in range(200)]
for m in random.sample(range(-130000, 130000), 40):
    sign = 1 if m >= 0 else -1
    points += [sign * p for p in neighbours(abs(m + 0.5) * math.log(2) / 128, [1e-12])]
points += [math.log(2) * k for k in range(-5, 6)]
points += neighbours(708.0, []) + [-p for p in neighbours(708.0, [])] + [-708.5, -730.0, 709.5]

exact = [mpmath.exp(mpmath.mpf(x)) for x in points]
nearest = [float(e) for e in exact]
residual = [float(e - mpmath.mpf(n)) if math.isfinite(n) else 0.0 for e, n in zip(exact, nearest)]
print(f"{len(points)} points written to {write('exp', {'x': points, 'exact': nearest, 'residual': residual})}")
