"""GradBench's llsq eval in PyTorch, vectorised: the least squares objective and its gradient."""
import torch


def llsq(x, n):
    m = x.shape[0]
    t = -1 + torch.arange(n) * 2 / (n - 1)
    powers = t[:, None] ** torch.arange(m)[None, :]
    r = torch.sign(t) - powers @ x
    return torch.sum(r**2) / 2


def primal(input):
    x = torch.tensor(input["x"])
    n = input["n"]
    return lambda: float(llsq(x, n))


def gradient(input):
    x = torch.tensor(input["x"])
    n = input["n"]

    def run():
        xs = x.clone().requires_grad_(True)
        llsq(xs, n).backward()
        return xs.grad

    return run
