"""Times the reference model and optimizer in PyTorch on the benchmark token file, the way
bench/gpu/bench-prepare.ts times train.ts: tokens/s, MFU, step time, peak VRAM, startup, and
(when run to a time budget) val_bpb on the file's validation rows. The last line is JSON.

  python3 bench/torch/train_bench.py --tokens FILE [--window-pattern L] [--steps N | --time-budget S] [--no-compile]
"""
import argparse
import json
import math
import os
import statistics
import time

LAUNCHED_AT = float(os.environ.get("AR_BENCH_LAUNCHED_AT", time.time() * 1000)) / 1000

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gpt import GPT, Config  # noqa: E402
from optim import MuonAdamW  # noqa: E402
from tokens import batches, read_token_file  # noqa: E402

H100_BF16_PEAK = 989.5e12  # dense bf16 FLOP/s of the H100/H200 SXM, as the reference uses for MFU
WARMUP_STEPS = 3  # as in bench/gpu/summarize-steps.ts


def lr_multiplier(progress, warmup=0.0, warmdown=0.5, final=0.0):
    if progress < warmup:
        return progress / warmup
    if progress < 1.0 - warmdown:
        return 1.0
    cooldown = (1.0 - progress) / warmdown
    return cooldown + (1 - cooldown) * final


def muon_momentum(step):
    f = min(step / 300, 1)
    return (1 - f) * 0.85 + f * 0.95


@torch.no_grad()
def evaluate_bpb(model, rows: np.ndarray, token_bytes: torch.Tensor, batch_size: int) -> float:
    """Summed nats over summed target bytes / ln 2, skipping 0-byte (special) targets."""
    rows_per_batch = min(batch_size, len(rows))
    nats, nbytes = 0.0, 0
    for x, y, _ in batches(rows, rows_per_batch, loop=False):
        x, y = (torch.from_numpy(np.ascontiguousarray(t)).cuda() for t in (x, y))
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(x, y, reduction="none").view(-1)
        b = token_bytes[y.reshape(-1)]
        nats += (loss * (b > 0)).sum().item()
        nbytes += b.sum().item()
    return nats / (math.log(2) * nbytes)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", required=True)
    ap.add_argument("--window-pattern", default="L")
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--device-batch", type=int, default=128)
    ap.add_argument("--total-batch", type=int, default=2**19)
    ap.add_argument("--steps", type=int, default=0, help="stop after N steps (0: run to the time budget)")
    ap.add_argument("--time-budget", type=float, default=300)
    ap.add_argument("--no-compile", action="store_true")
    args = ap.parse_args()

    data = read_token_file(args.tokens)
    T = data.seq_len
    torch.manual_seed(42)
    d_model = math.ceil(args.depth * 64 / 128) * 128
    cfg = Config(sequence_len=T, vocab_size=data.vocab, n_layer=args.depth, n_head=d_model // 128, n_embd=d_model,
                 window_pattern=args.window_pattern)
    model = GPT(cfg).cuda()
    model.init_weights()
    model.build_block_masks("cuda")
    flops_per_token = model.flops_per_token()
    optimizer = MuonAdamW(model)
    forward = model if args.no_compile else torch.compile(model, dynamic=False)
    grad_accum = args.total_batch // (args.device_batch * T)
    token_bytes = torch.from_numpy(data.token_bytes).cuda()
    train = batches(data.train, args.device_batch, loop=True)
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}: {cfg}, grad_accum {grad_accum}, flops/token {flops_per_token:.4e}")

    step_ends, training_time, step = [], 0.0, 0
    while True:
        t0 = time.perf_counter()
        for _ in range(grad_accum):
            x, y, epoch = next(train)
            x, y = (torch.from_numpy(np.ascontiguousarray(t)).pin_memory().cuda(non_blocking=True) for t in (x, y))
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = forward(x, y)
            (loss / grad_accum).backward()
        progress = min(training_time / args.time_budget, 1.0)
        optimizer.step(lr_multiplier(progress), muon_momentum(step), 0.2 * (1 - progress))
        model.zero_grad(set_to_none=True)
        train_loss = loss.item()
        if math.isnan(train_loss) or train_loss > 100:
            raise SystemExit(f"FAIL: loss {train_loss} at step {step}")
        torch.cuda.synchronize()
        t1 = time.perf_counter()
        step_ends.append(time.time())
        if step > 10:
            training_time += t1 - t0
        print(f"step {step:05d} | loss: {train_loss:.6f} | dt: {(t1 - t0) * 1000:.0f}ms | epoch: {epoch}", flush=True)
        step += 1
        if (args.steps > 0 and step >= args.steps) or (args.steps == 0 and step > 10 and training_time >= args.time_budget):
            break

    val_bpb = evaluate_bpb(forward, data.val, token_bytes, args.device_batch) if args.steps == 0 else None
    durations = sorted(b - a for a, b in zip(step_ends[WARMUP_STEPS - 1 :], step_ends[WARMUP_STEPS:]))
    step_s = statistics.median(durations)
    tokens_per_s = args.total_batch / step_s
    print(json.dumps({
        "bench": "train",
        "impl": f"pytorch {torch.__version__}" + ("" if args.no_compile else " compiled"),
        "device": torch.cuda.get_device_name(),
        "steps": step,
        "step_ms": step_s * 1000,
        "tokens_per_s": tokens_per_s,
        "mfu_percent": 100 * flops_per_token * tokens_per_s / H100_BF16_PEAK,
        "peak_vram_mb": torch.cuda.max_memory_allocated() / 2**20,
        "startup_s": step_ends[0] - LAUNCHED_AT,
        "val_bpb": val_bpb,
    }))


if __name__ == "__main__":
    main()
