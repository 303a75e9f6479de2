"""GradBench's det in PyTorch, float64: the determinant by expansion by minors along the first row.

As in our model (models/det.txt), a minor is named by its first row and the columns it keeps,
and each one is computed once (functools.cache): the same expansion, in O(l·2^l) operations.
"""
import functools

import torch


def det_by_minors(A):
    last = A.shape[0] - 1

    @functools.cache
    def minor(row, cols):
        if row == last:
            return A[row, cols[0]]
        total = 0.0
        for j, col in enumerate(cols):
            term = A[row, col] * minor(row + 1, cols[:j] + cols[j + 1:])
            total = total + term if j % 2 == 0 else total - term
        return total

    return minor(0, tuple(range(A.shape[1])))


def matrix(data):
    ell = int(data["ell"])
    return torch.tensor(data["A"]).reshape(ell, ell)


def primal(data):
    A = matrix(data)

    def run():
        with torch.no_grad():
            return float(det_by_minors(A))

    return run


def gradient(data):
    A0 = matrix(data)

    def run():
        A = A0.clone().requires_grad_(True)
        det_by_minors(A).backward()
        return A.grad.reshape(-1).tolist()

    return run
