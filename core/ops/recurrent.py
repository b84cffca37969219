"""Recurrent layers: `lstm`, `gru`, `rnn` (nn.LSTM/GRU/RNN, batch_first): the output
sequence of every step."""

from __future__ import annotations

from .registry import table

OPS = table()
