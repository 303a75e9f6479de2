"""GradBench's lse eval in PyTorch: LogSumExp with the max shift, and its gradient by autograd."""
import torch


def lse(x):
    a = torch.max(x)
    return a + torch.log(torch.sum(torch.exp(x - a)))


def primal(input):
    x = torch.tensor(input["x"])
    return lambda: float(lse(x))


def gradient(input):
    x = torch.tensor(input["x"])

    def run():
        xs = x.clone().requires_grad_(True)
        lse(xs).backward()
        return xs.grad

    return run
