"""GradBench's hello eval in PyTorch: square and its derivative, double."""
import torch


def _double(value):
    x = torch.tensor(float(value), requires_grad=True)
    (x * x).backward()
    return float(x.grad)


# Each function is timed once: both run once here first, as our tool runs its model once at define.
float(torch.tensor(1.0) * torch.tensor(1.0))
_double(1.0)


def square(input):
    x = torch.tensor(float(input))
    return lambda: float(x * x)


def double(input):
    return lambda: _double(input)
