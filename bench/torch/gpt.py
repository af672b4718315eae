"""The reference GPT (depth 8: d 512, 4 heads of 128) in PyTorch, written from shared/REFERENCE.md,
so our engine can be timed against PyTorch on the same GPU, tokens and hyperparameters."""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention.flex_attention import create_block_mask, flex_attention

VE_GATE_CHANNELS = 32
SOFTCAP = 15.0


@dataclass
class Config:
    sequence_len: int = 2048
    vocab_size: int = 8192
    n_layer: int = 8
    n_head: int = 4
    n_embd: int = 512
    window_pattern: str = "SSSL"


def has_value_embedding(layer: int, n_layer: int) -> bool:
    return layer % 2 == (n_layer - 1) % 2


def window_sizes(cfg: Config) -> list[int]:
    """L = the full context, S = half of it; the last layer is always L."""
    pattern = cfg.window_pattern.upper()
    long, short = cfg.sequence_len, cfg.sequence_len // 2
    sizes = [long if pattern[i % len(pattern)] == "L" else short for i in range(cfg.n_layer)]
    sizes[-1] = long
    return sizes


def sliding_window(w: int):
    """FlexAttention mask: query q sees keys kv with q - w <= kv <= q."""
    return lambda b, h, q, kv: (kv <= q) & (q - kv <= w)


def rms_norm(x: torch.Tensor) -> torch.Tensor:
    return F.rms_norm(x, (x.size(-1),))  # eps: the dtype's machine epsilon


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (B, T, H, D); cos, sin: (1, T, 1, D/2). y1 = x1 cos + x2 sin, y2 = -x1 sin + x2 cos."""
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos + x2 * sin, x2 * cos - x1 * sin], dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: Config, layer: int):
        super().__init__()
        d = cfg.n_embd
        self.n_head, self.head_dim = cfg.n_head, d // cfg.n_head
        self.c_q = nn.Linear(d, d, bias=False)
        self.c_k = nn.Linear(d, d, bias=False)
        self.c_v = nn.Linear(d, d, bias=False)
        self.c_proj = nn.Linear(d, d, bias=False)
        self.ve_gate = nn.Linear(VE_GATE_CHANNELS, cfg.n_head, bias=False) if has_value_embedding(layer, cfg.n_layer) else None

    def forward(self, x, ve, cos, sin, block_mask):
        B, T, C = x.shape
        H, D = self.n_head, self.head_dim
        q = self.c_q(x).view(B, T, H, D)
        k = self.c_k(x).view(B, T, H, D)
        v = self.c_v(x).view(B, T, H, D)
        if ve is not None:
            gate = 2 * torch.sigmoid(self.ve_gate(x[..., :VE_GATE_CHANNELS]))  # one gate per head
            v = v + gate.unsqueeze(-1) * ve.view(B, T, H, D)
        q, k = rms_norm(rotate(q, cos, sin)), rms_norm(rotate(k, cos, sin))
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        if block_mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = flex_attention(q, k, v, block_mask=block_mask)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=False)
        self.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x):
        return self.c_proj(F.relu(self.c_fc(x)).square())


class Block(nn.Module):
    def __init__(self, cfg: Config, layer: int):
        super().__init__()
        self.attn = Attention(cfg, layer)
        self.mlp = MLP(cfg)

    def forward(self, x, ve, cos, sin, block_mask):
        x = x + self.attn(rms_norm(x), ve, cos, sin, block_mask)
        return x + self.mlp(rms_norm(x))


class GPT(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        d, V, L = cfg.n_embd, cfg.vocab_size, cfg.n_layer
        self.wte = nn.Embedding(V, d)
        self.blocks = nn.ModuleList([Block(cfg, i) for i in range(L)])
        self.lm_head = nn.Linear(d, V, bias=False)
        self.resid_lambdas = nn.Parameter(torch.ones(L))
        self.x0_lambdas = nn.Parameter(torch.full((L,), 0.1))
        self.value_embeds = nn.ModuleDict({str(i): nn.Embedding(V, d) for i in range(L) if has_value_embedding(i, L)})
        self.windows = window_sizes(cfg)
        head_dim = d // cfg.n_head
        inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        angles = torch.outer(torch.arange(cfg.sequence_len, dtype=torch.float32), inv_freq)
        self.register_buffer("cos", angles.cos().bfloat16()[None, :, None, :], persistent=False)
        self.register_buffer("sin", angles.sin().bfloat16()[None, :, None, :], persistent=False)
        self.block_masks: dict[int, object] = {}

    @torch.no_grad()
    def init_weights(self):
        d = self.cfg.n_embd
        s = math.sqrt(3) * d**-0.5
        nn.init.normal_(self.wte.weight, 0.0, 1.0)
        nn.init.normal_(self.lm_head.weight, 0.0, 0.001)
        for block in self.blocks:
            for lin in (block.attn.c_q, block.attn.c_k, block.attn.c_v, block.mlp.c_fc):
                nn.init.uniform_(lin.weight, -s, s)
            nn.init.zeros_(block.attn.c_proj.weight)
            nn.init.zeros_(block.mlp.c_proj.weight)
            if block.attn.ve_gate is not None:
                nn.init.zeros_(block.attn.ve_gate.weight)
        self.resid_lambdas.fill_(1.0)
        self.x0_lambdas.fill_(0.1)
        for ve in self.value_embeds.values():
            nn.init.uniform_(ve.weight, -s, s)
        # The embeddings are stored in bf16; every other parameter stays fp32 (autocast computes in bf16).
        self.wte.to(torch.bfloat16)
        for ve in self.value_embeds.values():
            ve.to(torch.bfloat16)

    def build_block_masks(self, device):
        """FlexAttention masks for the sliding windows (SDPA's causal path serves full windows)."""
        T = self.cfg.sequence_len
        for w in set(self.windows):
            if w < T:
                self.block_masks[w] = create_block_mask(sliding_window(w), None, None, T, T, device=device)

    def forward(self, idx, targets, reduction="mean"):
        T = idx.size(1)
        cos, sin = self.cos[:, :T], self.sin[:, :T]
        x = rms_norm(self.wte(idx))
        x0 = x
        for i, block in enumerate(self.blocks):
            x = self.resid_lambdas[i] * x + self.x0_lambdas[i] * x0
            ve = self.value_embeds[str(i)](idx) if str(i) in self.value_embeds else None
            x = block(x, ve, cos, sin, self.block_masks.get(self.windows[i]))
        logits = self.lm_head(rms_norm(x)).float()
        logits = SOFTCAP * torch.tanh(logits / SOFTCAP)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1, reduction=reduction)

    def param_counts(self) -> dict[str, int]:
        wte = self.wte.weight.numel()
        ve = sum(e.weight.numel() for e in self.value_embeds.values())
        scalars = self.resid_lambdas.numel() + self.x0_lambdas.numel()
        total = sum(p.numel() for p in self.parameters())
        return {"total": total, "wte": wte, "value_embeds": ve, "scalars": scalars}

    def flops_per_token(self) -> float:
        """6 per matmul parameter plus attention over each layer's window."""
        c = self.param_counts()
        head_dim = self.cfg.n_embd // self.cfg.n_head
        attn = sum(12 * self.cfg.n_head * head_dim * min(w, self.cfg.sequence_len) for w in self.windows)
        return 6 * (c["total"] - c["wte"] - c["value_embeds"] - c["scalars"]) + attn
