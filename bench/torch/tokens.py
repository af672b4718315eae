"""Reads the benchmark token file that bench/gpu/write-tokens.ts writes (layout in bench/gpu/token-file.ts)."""
from dataclasses import dataclass

import numpy as np

MAGIC = b"ARTOKEN1"


@dataclass
class TokenFile:
    vocab: int
    seq_len: int
    token_bytes: np.ndarray  # (vocab,) int64: UTF-8 bytes per token id, 0 for special tokens
    train: np.ndarray  # (train_rows, seq_len + 1) int64
    val: np.ndarray  # (val_rows, seq_len + 1) int64


def read_token_file(path: str) -> TokenFile:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:8].tobytes() != MAGIC:
        raise ValueError(f"Expected {path} to be a token file starting with {MAGIC.decode()}")
    vocab, seq_len, train_rows, val_rows = (int(v) for v in raw[8:24].view("<u4"))
    body = raw[24:].view("<u2").astype(np.int64)
    row = seq_len + 1
    train_end = vocab + train_rows * row
    return TokenFile(
        vocab=vocab,
        seq_len=seq_len,
        token_bytes=body[:vocab],
        train=body[vocab:train_end].reshape(train_rows, row),
        val=body[train_end : train_end + val_rows * row].reshape(val_rows, row),
    )


def batches(rows: np.ndarray, batch_size: int, loop: bool):
    """(inputs, targets, epoch) of batch_size rows in file order, like tokenBatches in token-file.ts."""
    if len(rows) < batch_size:
        raise ValueError(f"Expected at least {batch_size} rows in the token file, got {len(rows)}")
    epoch = 1
    while True:
        for r in range(0, len(rows) - batch_size + 1, batch_size):
            chunk = rows[r : r + batch_size]
            yield chunk[:, :-1], chunk[:, 1:], epoch
        if not loop:
            return
        epoch += 1
