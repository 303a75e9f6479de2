"""GradBench's gmm in PyTorch: the ADBench Gaussian mixture log posterior with its Wishart prior, and its gradient.

l[k] holds the strictly lower triangle of L_k column by column (ADBench's order): L[1,0], L[2,0], …, L[2,1], ….
"""
import math

import torch


def _lower_positions(d):
    rows = [r for c in range(d - 1) for r in range(c + 1, d)]
    cols = [c for c in range(d - 1) for _ in range(c + 1, d)]
    return torch.tensor(rows, dtype=torch.long), torch.tensor(cols, dtype=torch.long)


def _objective(d, k, n, x, m, gamma, alpha, mu, q, l):
    rows, cols = _lower_positions(d)
    lower = torch.zeros((k, d, d))
    lower[:, rows, cols] = l
    centred = x[:, None, :] - mu[None, :, :]  # n × k × d
    transformed = torch.exp(q) * centred + torch.einsum("kij,nkj->nki", lower, centred)
    inner = alpha + q.sum(1) - 0.5 * (transformed**2).sum(2)
    likelihood = -n * d * 0.5 * math.log(2 * math.pi) + torch.logsumexp(inner, 1).sum() - n * torch.logsumexp(alpha, 0)
    degrees = d + m + 1
    frobenius = (torch.exp(q) ** 2).sum(1) + (l**2).sum(1)
    prior_terms = (0.5 * gamma * gamma * frobenius - m * q.sum(1)).sum()
    constant = degrees * d * math.log(gamma / math.sqrt(2)) - torch.special.multigammaln(
        torch.tensor(0.5 * degrees), d
    )
    return likelihood - prior_terms + k * constant


def _prepare(data, requires_grad):
    def tensor(name, grad=False):
        return torch.tensor(data[name], dtype=torch.float64, requires_grad=grad)

    l = data["l"] if data["d"] > 1 else [[] for _ in range(data["k"])]
    return {
        "d": data["d"],
        "k": data["k"],
        "n": data["n"],
        "x": tensor("x"),
        "m": data["m"],
        "gamma": data["gamma"],
        "alpha": tensor("alpha", requires_grad),
        "mu": tensor("mu", requires_grad),
        "q": tensor("q", requires_grad),
        "l": torch.tensor(l, dtype=torch.float64, requires_grad=requires_grad).reshape(data["k"], -1),
    }


def objective(data):
    inputs = _prepare(data, False)
    return lambda: float(_objective(**inputs))


def jacobian(data):
    inputs = _prepare(data, True)
    independent = ["alpha", "mu", "q", "l"]

    def run():
        gradients = torch.autograd.grad(_objective(**inputs), [inputs[name] for name in independent])
        return {name: g.tolist() for name, g in zip(independent, gradients)}

    return run
