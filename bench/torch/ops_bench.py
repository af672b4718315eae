"""Times PyTorch at the shapes of bench/gpu/op-shapes.json, as ops-bench.ts times our kernels:
bf16 GEMMs (cuBLAS through torch.matmul) and attention forward + backward (SDPA flash, cuDNN,
FlexAttention for the sliding window). The last line is JSON.

  python3 bench/torch/ops_bench.py
"""
import json
import os

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

from gpt import sliding_window

HERE = os.path.dirname(os.path.abspath(__file__))


def time_it(f, iterations):
    """Mean seconds per call after warm-up, from CUDA events around the batch of calls."""
    for _ in range(2):
        f()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    start.record()
    for _ in range(iterations):
        f()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / iterations


def gemm_row(g):
    batch = g.get("batch", 1)
    M, N, K = g["M"], g["N"], g["K"]
    # Stored like ours: a is (M, K), or (K, M) read transposed; b is (K, N), or (N, K) read transposed.
    a = torch.randn(batch, *((K, M) if g["transA"] else (M, K)), device="cuda", dtype=torch.bfloat16)
    b = torch.randn(batch, *((N, K) if g["transB"] else (K, N)), device="cuda", dtype=torch.bfloat16)
    opa, opb = (a.mT if g["transA"] else a), (b.mT if g["transB"] else b)
    s = time_it(lambda: torch.matmul(opa, opb), 10)
    return f"gemm {g['name']}", s, 2 * batch * M * N * K


flex = torch.compile(flex_attention, dynamic=False)


def attention_rows(t):
    B, T, H, D, w = t["B"], t["T"], t["H"], t["D"], t["window"]
    q, k, v = (torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    dout = torch.randn(B, H, T, D, device="cuda", dtype=torch.bfloat16)
    visible = sum(min(i, w) + 1 for i in range(T))
    flops = 3.5 * 4 * B * H * D * visible  # forward 4 B H D per visible score, backward 2.5x
    rows = []
    if w >= T:
        for name, backend in (("", SDPBackend.FLASH_ATTENTION), (" (cudnn)", SDPBackend.CUDNN_ATTENTION)):
            def step(backend=backend):
                with sdpa_kernel(backend):
                    F.scaled_dot_product_attention(q, k, v, is_causal=True).backward(dout)
            try:
                rows.append((f"attention {t['name']}{name}", time_it(step, 5), flops))
            except RuntimeError as e:  # a backend this build or GPU lacks
                print(f"skipped attention {t['name']}{name}: {e}")
    else:
        mask = create_block_mask(sliding_window(w), None, None, T, T, device="cuda")
        rows.append((f"attention {t['name']}", time_it(lambda: flex(q, k, v, block_mask=mask).backward(dout), 5), flops))
    return rows


def main():
    with open(os.path.join(HERE, "..", "gpu", "op-shapes.json")) as f:
        shapes = json.load(f)
    rows = [gemm_row(g) for g in shapes["gemm"]]
    for t in shapes["attention"]:
        rows.extend(attention_rows(t))
    device = torch.cuda.get_device_name()
    print(f"pytorch {torch.__version__} on {device}")
    print(f"{'op':<34}{'ms':>10}{'TFLOP/s':>10}")
    for name, s, flops in rows:
        print(f"{name:<34}{s * 1000:>10.3f}{flops / s / 1e12:>10.1f}")
    print(json.dumps({"bench": "gpu-ops", "impl": f"pytorch {torch.__version__}", "device": device,
                      "ops": {name: {"ms": s * 1000, "tflops": flops / s / 1e12} for name, s, flops in rows}}))


if __name__ == "__main__":
    main()
