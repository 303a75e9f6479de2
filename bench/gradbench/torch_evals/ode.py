"""GradBench's ode eval in PyTorch: Runge-Kutta in s steps, and the gradient of the last entry."""
import torch


def ode(x, s):
    def f(y):
        return x * torch.cat([torch.ones(1), y[:-1]])

    h = 2.0 / s
    y = torch.zeros_like(x)
    for _ in range(s):
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def primal(input):
    x = torch.tensor(input["x"])
    s = input["s"]
    return lambda: ode(x, s)


def gradient(input):
    x = torch.tensor(input["x"])
    s = input["s"]

    def run():
        xs = x.clone().requires_grad_(True)
        ode(xs, s)[-1].backward()
        return xs.grad

    return run
