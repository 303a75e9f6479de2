"""GradBench's hello eval in PyTorch: square and its derivative, double."""
import torch


def square(input):
    x = torch.tensor(float(input))
    return lambda: float(x * x)


def double(input):
    def run():
        x = torch.tensor(float(input), requires_grad=True)
        (x * x).backward()
        return float(x.grad)

    return run
