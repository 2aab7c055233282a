#!/usr/bin/env python3
"""Exports the digits MLP (64 -> 64 -> ReLU -> 10) used by the training tests.

    /usr/bin/python3 export_digits_mlp.py OUT.onnx [--seed S]

PyTorch's default initialization with a fixed seed; the batch dimension is
symbolic, so `nncc train --batch N` picks it.
"""
import argparse

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hidden", type=int, default=64)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, args.hidden), torch.nn.ReLU(), torch.nn.Linear(args.hidden, 10))
    x = torch.zeros(1, 64)
    torch.onnx.export(model, x, args.out, input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)


if __name__ == "__main__":
    main()
