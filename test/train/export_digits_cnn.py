#!/usr/bin/env python3
"""Exports the small digits CNN used by the training tests.

    /usr/bin/python3 export_digits_cnn.py OUT.onnx [--seed S]

Input [N, 1, 8, 8] (the 64 pixels of a row); conv 3x3 (8) - ReLU - max-pool
2 - conv 3x3 (16) - ReLU - max-pool 2 - flatten - linear 10. PyTorch's
default initialization with a fixed seed; the batch dimension is symbolic.
"""
import argparse

import torch


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 2 * 2, 10))
    x = torch.zeros(1, 1, 8, 8)
    torch.onnx.export(model, x, args.out, input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)


if __name__ == "__main__":
    main()
