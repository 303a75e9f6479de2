#!/usr/bin/python3
"""PyTorch reference results for programs of the language (issue 11).

Writes fixtures/torch-programs.jsonl, one case a line, in the format of
fixtures/torch-cases.jsonl: expr, at, wrt, value (flat), m, n, jacobian (m×n,
columns are the wrt variables flattened row-major, one after another), v, vjp,
u, jvp, and hessian for scalar outputs. Run with Debian's python3-torch:
    /usr/bin/python3 scripts/oracle/programs.py
Tests read only the fixture; they never need torch.
"""
import json
import math
import os

import torch
from torch.autograd.functional import hessian, jacobian

torch.set_default_dtype(torch.float64)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
rng = torch.Generator().manual_seed(11)


def rand(*shape, scale=1.0):
    return ((torch.rand(*shape, generator=rng) * 2 - 1) * scale).round(decimals=3)


def case(id, expr, at, wrt, f):
    """`f` takes the wrt tensors (in order) and returns the output tensor."""
    names = list(at)
    values = {k: torch.tensor(v) for k, v in at.items()}
    inputs = tuple(values[k] for k in wrt)

    def g(*xs):
        env = dict(values)
        env.update(zip(wrt, xs))
        return f(**env)

    y = g(*inputs)
    m = y.numel()
    n = sum(x.numel() for x in inputs)
    blocks = jacobian(g, inputs)
    if not isinstance(blocks, tuple):
        blocks = (blocks,)
    J = torch.cat([b.reshape(m, -1) for b in blocks], dim=1)
    v = rand(m)
    u = rand(n)
    row = {
        "id": id, "expr": expr, "at": at, "wrt": wrt,
        "value": y.reshape(-1).tolist(), "valueShape": list(y.shape), "m": m, "n": n,
        "jacobian": J.tolist(), "v": v.tolist(), "vjp": (v @ J).tolist(), "u": u.tolist(), "jvp": (J @ u).tolist(),
    }
    if m == 1 and y.dim() == 0:
        flat = torch.cat([x.reshape(-1) for x in inputs])
        sizes = [x.numel() for x in inputs]

        def scalar(z):
            parts = torch.split(z, sizes)
            return g(*[p.reshape(x.shape) for p, x in zip(parts, inputs)])

        row["hessian"] = hessian(scalar, flat).tolist()
    assert names  # every case binds its variables
    return row


def lorenz(u, p):
    return torch.stack([p[0] * (u[1] - u[0]), u[0] * (p[1] - u[2]) - u[1], u[0] * u[1] - p[2] * u[2]])


def rk4(u, p, h):
    k1 = lorenz(u, p)
    k2 = lorenz(u + h / 2 * k1, p)
    k3 = lorenz(u + h / 2 * k2, p)
    k4 = lorenz(u + h * k3, p)
    return u + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def steps(u, p, h, k):
    for _ in range(k):
        u = rk4(u, p, h)
    return u


RK4_PROGRAM = """# Lorenz system, 10 steps of classical Runge-Kutta, unrolled by recursion
f(u, p) = [p[1]*(u[2]-u[1]), u[1]*(p[2]-u[3]) - u[2], u[1]*u[2] - p[3]*u[3]]
rk4d(u, p, h, k1, k2, k3) = u + h/6*(k1 + 2*k2 + 2*k3 + f(u + h*k3, p))
rk4c(u, p, h, k1, k2) = rk4d(u, p, h, k1, k2, f(u + h/2*k2, p))
rk4b(u, p, h, k1) = rk4c(u, p, h, k1, f(u + h/2*k1, p))
rk4(u, p, h) = rk4b(u, p, h, f(u, p))
steps(u, p, h, k) = k == 0 ? u : steps(rk4(u, p, h), p, h, k - 1)
steps(u0, p, 0.01, 10)"""

W = rand(3, 4).tolist()
V = rand(2, 3).tolist()
x4 = rand(4).tolist()
b3 = rand(3).tolist()
A = (torch.eye(3) * 2 + rand(3, 3, scale=0.5)).tolist()
x3 = [0.3, -1.2, 0.7]
x5 = [0.5, -1.5, 2.0, -0.25, 1.0]

CASES = [
    case("two-layer-program", "h = tanh(W*x + b)\ny = V*h  # the second layer\nsum(y.^2)",
         {"W": W, "x": x4, "b": b3, "V": V}, ["W", "x", "b", "V"],
         lambda W, x, b, V: ((V @ torch.tanh(W @ x + b)) ** 2).sum()),
    case("two-layer-inline", "sum((V*tanh(W*x + b)).^2)",
         {"W": W, "x": x4, "b": b3, "V": V}, ["W", "x", "b", "V"],
         lambda W, x, b, V: ((V @ torch.tanh(W @ x + b)) ** 2).sum()),
    case("intermediate-reused", "h = tanh(W*x + b); M*h + h",
         {"W": W, "x": x4, "b": b3, "M": A}, ["W", "x"],
         lambda W, x, b, M: M @ torch.tanh(W @ x + b) + torch.tanh(W @ x + b)),
    case("sigmoid-user", "sigmoid(z) = 1 ./ (1 + exp(-z)); sigmoid(x)", {"x": [1.0, 2.0, 3.0]}, ["x"],
         lambda x: torch.sigmoid(x)),
    case("sigmoid", "sigmoid(x)", {"x": [1.0, 2.0, 3.0]}, ["x"], lambda x: torch.sigmoid(x)),
    case("softmax", "softmax(x)", {"x": x5}, ["x"], lambda x: torch.softmax(x, 0)),
    case("logsumexp", "logsumexp(x)", {"x": x5}, ["x"], lambda x: torch.logsumexp(x, 0)),
    case("logsumexp-large", "logsumexp(x)", {"x": [1000.0, 1001.0, 999.5]}, ["x"], lambda x: torch.logsumexp(x, 0)),
    case("relu", "relu(x)", {"x": x5}, ["x"], lambda x: torch.relu(x)),
    case("relu-sum", "sum(relu(x).^2)", {"x": x5}, ["x"], lambda x: (torch.relu(x) ** 2).sum()),
    case("softplus", "softplus(x)", {"x": x5}, ["x"], lambda x: torch.nn.functional.softplus(x)),
    case("erf", "erf(x)", {"x": x5}, ["x"], lambda x: torch.erf(x)),
    case("erf-sum", "sum(erf(x).*x)", {"x": x5}, ["x"], lambda x: (torch.erf(x) * x).sum()),
    case("lusolve", "lusolve(A, c)", {"A": A, "c": x3}, ["A", "c"],
         lambda A, c: torch.linalg.solve(A, c.reshape(3, 1))),
    case("lusolve-sum", "sum(lusolve(A, c).^2)", {"A": A, "c": x3}, ["A", "c"],
         lambda A, c: (torch.linalg.solve(A, c) ** 2).sum()),
    case("cumsum", "cumsum(x)", {"x": x5}, ["x"], lambda x: torch.cumsum(x, 0)),
    case("cumsum-sq", "sum(cumsum(x).^2)", {"x": x5}, ["x"], lambda x: (torch.cumsum(x, 0) ** 2).sum()),
    case("kron", "kron(P, Q)", {"P": [[1.0, -2.0], [0.5, 3.0]], "Q": [[0.2, 1.0, -1.0], [2.0, 0.1, 0.7]]},
         ["P", "Q"], lambda P, Q: torch.kron(P, Q)),
    case("reshape", "reshape(x, [2, 3]) * y", {"x": [1.0, 2.0, -1.0, 0.5, 3.0, -2.0], "y": x3}, ["x", "y"],
         lambda x, y: x.reshape(2, 3) @ y),
    case("diag-vector", "diag(x) * y", {"x": x3, "y": [0.5, 2.0, -1.0]}, ["x", "y"],
         lambda x, y: torch.diag(x) @ y),
    case("diag-matrix", "diag(A).^2", {"A": A}, ["A"], lambda A: torch.diag(A) ** 2),
    case("lorenz-rk4-10", RK4_PROGRAM, {"u0": [1.0, 1.0, 1.0], "p": [10.0, 28.0, 8.0 / 3.0]}, ["u0", "p"],
         lambda u0, p: steps(u0, p, 0.01, 10)),
]

path = os.path.join(ROOT, "fixtures", "torch-programs.jsonl")
with open(path, "w") as out:
    for row in CASES:
        out.write(json.dumps(row) + "\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(path, ROOT)}")
