#!/usr/bin/python3
"""The table of src/ops/exp-table.ts: 2^(j/128) for j < 128 as a double and the double nearest its rounding error
(mpmath, 200 bits), and ln 2/128 split into a head of 32 significant bits (so that n times it is exact for every
|n| < 2^21) and the double nearest the rest. Run: /usr/bin/python3 scripts/oracle/exp_table.py
"""
import math
import os

import mpmath

mpmath.mp.prec = 200
N = 128
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def split(value):
    head = float(value)
    return head, float(value - mpmath.mpf(head))


heads, tails = zip(*(split(mpmath.mpf(2) ** (mpmath.mpf(j) / N)) for j in range(N)))
step = mpmath.log(2) / N
mantissa, exponent = math.frexp(float(step))
step_head = math.ldexp(round(math.ldexp(mantissa, 32)), exponent - 32)
step_tail = float(step - mpmath.mpf(step_head))


def numbers(values):
    return "\n".join(f"  {value!r}," for value in values)


with open(os.path.join(ROOT, "src", "ops", "exp-table.ts"), "w") as out:
    out.write(f"""// Written by scripts/oracle/exp_table.py (mpmath, 200 bits): do not edit.
/** 2^(j/{N}) for j < {N}, rounded to the nearest double. */
export const EXP_TABLE_HEADS = Float64Array.of(
{numbers(heads)}
);
/** 2^(j/{N}) minus its head, rounded to the nearest double. */
export const EXP_TABLE_TAILS = Float64Array.of(
{numbers(tails)}
);
/** ln 2/{N} to 32 significant bits, so that n times it is exact for |n| < 2^21. */
export const EXP_STEP_HEAD = {step_head!r};
/** ln 2/{N} minus EXP_STEP_HEAD, rounded to the nearest double. */
export const EXP_STEP_TAIL = {step_tail!r};
/** {N}/ln 2, rounded to the nearest double. */
export const EXP_STEPS_PER_UNIT = {float(N / mpmath.log(2))!r};
""")
print("written src/ops/exp-table.ts")
