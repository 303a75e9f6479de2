"""What the scripts of exact values share (lgamma.py, digamma.py, reciprocal.py, derivatives.py): mpmath at 200 bits,
one seed, the points around a centre, and where and how the values are written (fixtures/functions/NAME.json)."""
import json
import math
import os
import random

import mpmath

mpmath.mp.prec = 200
random.seed(20261202)
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "functions")


def neighbours(centre, steps):
    """The four doubles on each side of a positive centre, then centre·(1 ∓ step) for each step."""
    points = []
    below = above = centre
    for _ in range(4):
        below, above = math.nextafter(below, 0), math.nextafter(above, math.inf)
        points += [below, above]
    for step in steps:
        points += [centre * (1 - step), centre * (1 + step)]
    return points


def write(name, values):
    """Writes the values as fixtures/functions/NAME.json, one line; the file's path."""
    path = os.path.join(FIXTURES, f"{name}.json")
    with open(path, "w") as out:
        json.dump(values, out)
        out.write("\n")
    return path
