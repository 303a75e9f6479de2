#!/usr/bin/env python3
"""PyTorch references for the GradBench evals, float64.

Reads JSON lines on standard input, each {"eval", "function", "input"} where input may
carry "min_runs" and "min_seconds" as GradBench's evaluate messages do, and writes one
JSON line per request: {"output": ..., "nanoseconds": [...]} (one timing per run of the
prepared function; preparing, which turns JSON into tensors, is not timed), or
{"error": "..."}. Each eval is a module torch_evals/<eval>.py in which every function
of the eval is `def name(input) -> callable`: the callable computes the output as JSON
values (lists and floats) or as tensors, which are turned into lists after the timed runs
(as GradBench's PyTorch tool converts its outputs outside the timing).
"""
import importlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

torch.set_default_dtype(torch.float64)


def as_json(value):
    if isinstance(value, torch.Tensor):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    return value


def run(request):
    module = importlib.import_module(f"torch_evals.{request['eval']}")
    data = request["input"]
    min_runs = int(data.get("min_runs", 1)) if isinstance(data, dict) else 1
    min_seconds = float(data.get("min_seconds", 0)) if isinstance(data, dict) else 0.0
    prepared = getattr(module, request["function"])(data)
    timings = []
    start_all = time.perf_counter_ns()
    while True:
        start = time.perf_counter_ns()
        output = prepared()
        timings.append(time.perf_counter_ns() - start)
        if len(timings) >= min_runs and time.perf_counter_ns() - start_all >= min_seconds * 1e9:
            break
    return {"output": as_json(output), "nanoseconds": timings}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            response = run(json.loads(line))
        except Exception as error:  # a reference that fails is reported, not fatal
            response = {"error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
