#!/usr/bin/env python3
"""Exports the stateful LSTM language model of docs/examples/train_tbptt.cpp.

    /usr/bin/python3 export_lstm_lm_states.py OUT.onnx [--seed S]

Tokens [20 steps, 8 sequences] (int64, 16 symbols) -> embedding (32) ->
2-layer LSTM (64) -> linear -> logits [20, 8, 16]. The LSTM's initial states
h0 and c0 ([2, 8, 64]) are inputs after the tokens and its final states
outputs after the logits (`y, (h, c) = lstm(x, (h0, c0))`): nncc's trainer
carries them from one chunk of 20 steps to the next (truncated BPTT).
"""
import argparse

import torch


class LanguageModel(torch.nn.Module):
    def __init__(self, symbols=16, embed=32, hidden=64, layers=2):
        super().__init__()
        self.embed = torch.nn.Embedding(symbols, embed)
        self.lstm = torch.nn.LSTM(embed, hidden, layers)
        self.out = torch.nn.Linear(hidden, symbols)

    def forward(self, tokens, h0, c0):
        y, (h, c) = self.lstm(self.embed(tokens), (h0, c0))
        return self.out(y), h, c


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = LanguageModel().eval()
    tokens = torch.zeros(20, 8, dtype=torch.int64)
    state = torch.zeros(2, 8, 64)
    torch.onnx.export(model, (tokens, state, state), args.out, input_names=["tokens", "h0", "c0"],
                      output_names=["logits", "hn", "cn"], opset_version=14)


if __name__ == "__main__":
    main()
