"""GradBench's lstm (ADBench's LSTM with diagonal weights) in PyTorch, float64, as ADBench's PyTorch module.

objective is the loss; jacobian its gradient by main_params and extra_params, each flattened
row by row, concatenated.
"""
import torch


def lstm_model(weight, bias, hidden, cell, inp):
    b = hidden.shape[0]
    gates = torch.cat((inp, hidden, inp, hidden)) * weight + bias
    forget = torch.sigmoid(gates[0:b])
    ingate = torch.sigmoid(gates[b:2 * b])
    outgate = torch.sigmoid(gates[2 * b:3 * b])
    change = torch.tanh(gates[3 * b:])
    cell = cell * forget + ingate * change
    hidden = outgate * torch.tanh(cell)
    return hidden, cell


def lstm_predict(main_params, extra_params, state, inp):
    x = inp * extra_params[0]
    new_state = []
    for i in range(0, len(main_params), 2):
        hidden, cell = lstm_model(main_params[i], main_params[i + 1], state[i], state[i + 1], x)
        new_state += [hidden, cell]
        x = hidden
    return x * extra_params[1] + extra_params[2], new_state


def lstm_objective(main_params, extra_params, state, sequence):
    total = 0.0
    count = 0
    state = list(state)
    for t in range(sequence.shape[0] - 1):
        ypred, state = lstm_predict(main_params, extra_params, state, sequence[t])
        ynorm = ypred - torch.log(torch.sum(torch.exp(ypred)) + 2)
        total = total + torch.sum(sequence[t + 1] * ynorm)
        count += sequence.shape[1]
    return -total / count


def tensors(data):
    return [torch.tensor(data[k]) for k in ("main_params", "extra_params", "state", "sequence")]


def objective(data):
    main_params, extra_params, state, sequence = tensors(data)

    def run():
        with torch.no_grad():
            return float(lstm_objective(main_params, extra_params, state, sequence))

    return run


def jacobian(data):
    main0, extra0, state, sequence = tensors(data)

    def run():
        main_params = main0.clone().requires_grad_(True)
        extra_params = extra0.clone().requires_grad_(True)
        lstm_objective(main_params, extra_params, state, sequence).backward()
        return main_params.grad.reshape(-1).tolist() + extra_params.grad.reshape(-1).tolist()

    return run
