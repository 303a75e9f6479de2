"""Writes fixtures/npy/*.npy and *.npz with NumPy (run: /usr/bin/python3 scripts/oracle/npy.py).

test/npy.test.ts reads each file and checks its shape and values, which it
computes from the same formulas as here; the refusals are files NumPy writes
but the CLI does not take (objects, complex, strings, three dimensions).
"""

import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "npy")
os.makedirs(OUT, exist_ok=True)


def save(name, array):
    np.save(os.path.join(OUT, name), array, allow_pickle=True)


# Entry (i, j) of every matrix is i * 10 + j + 0.5 (a half, so integers stand out), of every vector k + 0.25.
matrix = np.fromfunction(lambda i, j: i * 10 + j + 0.5, (3, 4))
vector = np.arange(5) + 0.25

save("f8-le-c.npy", matrix.astype("<f8"))
save("f8-be-fortran.npy", np.asfortranarray(matrix.astype(">f8")))
save("f4-le.npy", vector.astype("<f4"))
save("f4-be-fortran.npy", np.asfortranarray(matrix.astype(">f4")))
save("i4-le.npy", np.array([-3, 0, 7, 2147483647], dtype="<i4"))
save("i8-be.npy", np.array([[-(2**40), 1], [2, 3]], dtype=">i8"))
save("u1.npy", np.array([0, 1, 255], dtype="u1"))
save("u2-be.npy", np.array([1, 65535], dtype=">u2"))
save("i2-fortran.npy", np.asfortranarray(np.array([[1, -2, 3], [-4, 5, -6]], dtype="<i2")))
save("bool.npy", np.array([True, False, True]))
save("scalar.npy", np.float64(2.5))
save("special.npy", np.array([np.nan, np.inf, -np.inf, -0.0]))
save("object.npy", np.array([1, "a", None], dtype=object))
save("complex.npy", np.array([1 + 2j, 3]))
save("strings.npy", np.array(["a", "bc"]))
save("three-d.npy", np.zeros((2, 2, 2)))
# Version 2.0 and 3.0 headers, which NumPy writes for long headers and for Unicode field names.
with open(os.path.join(OUT, "v2.npy"), "wb") as f:
    np.lib.format.write_array(f, vector, version=(2, 0))
with open(os.path.join(OUT, "v3.npy"), "wb") as f:
    np.lib.format.write_array(f, vector, version=(3, 0))
# A file cut short: the header of a 3x4 float64 array with only 40 of its 96 bytes of data.
with open(os.path.join(OUT, "f8-le-c.npy"), "rb") as f:
    whole = f.read()
with open(os.path.join(OUT, "truncated.npy"), "wb") as f:
    f.write(whole[:-56])
# Archives for --at NAME=@FILE.npz:NAME: numpy.savez stores its arrays (with zip64 local headers), savez_compressed
# deflates them.
np.savez(os.path.join(OUT, "arrays.npz"), W=matrix, b=vector)
np.savez_compressed(os.path.join(OUT, "compressed.npz"), W=matrix)
