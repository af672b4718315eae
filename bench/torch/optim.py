"""The reference optimizer in PyTorch, from shared/REFERENCE.md: AdamW for embeddings, lm_head and
scalars; Muon (Polar Express + NorMuon + cautious weight decay) for the block matrices, stacked by shape."""
import torch

POLAR_EXPRESS = [
    (8.156554524902461, -22.48329292557795, 15.878769915207462),
    (4.042929935166739, -2.808917465908714, 0.5000178451051316),
    (3.8916678022926607, -2.772484153217685, 0.5060648178503393),
    (3.285753657755655, -2.3681294933425376, 0.46449024233003106),
    (2.3465413258596377, -1.7097828382687081, 0.42323551169305323),
]


@torch.compile(dynamic=False, fullgraph=True)
def adamw_step(p, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, wd):
    # Moments in fp32 whatever p's dtype (the bf16 embeddings), like our engine.
    p32 = p.float() * (1 - lr * wd)
    exp_avg.lerp_(grad.float(), 1 - beta1)
    exp_avg_sq.lerp_(grad.float().square(), 1 - beta2)
    denom = (exp_avg_sq / (1 - beta2**step)).sqrt() + eps
    p.copy_(p32 - (lr / (1 - beta1**step)) * exp_avg / denom)


@torch.compile(dynamic=False, fullgraph=True)
def muon_step(grads, params, momentum_buffer, second_momentum, momentum, lr, wd, beta2):
    """grads, params: (k, rows, cols) stacks of one shape; updates params in place."""
    rows, cols = params.shape[-2:]
    momentum_buffer.lerp_(grads, 1 - momentum)
    g = grads.lerp(momentum_buffer, momentum)  # Nesterov
    X = g.bfloat16()
    X = X / (X.norm(dim=(-2, -1), keepdim=True) * 1.02 + 1e-6)
    for a, b, c in POLAR_EXPRESS:
        if rows > cols:
            A = X.mT @ X
            X = a * X + X @ (b * A + c * (A @ A))
        else:
            A = X @ X.mT
            X = a * X + (b * A + c * (A @ A)) @ X
    # NorMuon: normalise the second moment per row (or column), keeping the update's norm.
    dim = -1 if rows >= cols else -2
    n = X.size(dim)
    v_mean = X.float().square().mean(dim=dim, keepdim=True)
    v_norm = (v_mean.sum(dim=(-2, -1), keepdim=True) * n).sqrt()
    second_momentum.lerp_(v_mean, 1 - beta2)
    step = second_momentum.clamp_min(1e-10).rsqrt()
    v_norm_new = (v_mean * n * step.square()).sum(dim=(-2, -1), keepdim=True).sqrt()
    update = X.float() * (step * (v_norm / v_norm_new.clamp_min(1e-10)))
    # Cautious weight decay: only where the update and the weight agree in sign.
    mask = (update * params) >= 0
    params.sub_(lr * update + lr * wd * params * mask)


def scalar(v: float) -> torch.Tensor:
    """A 0-d CPU tensor: changing its value never makes torch.compile recompile."""
    return torch.tensor(v, dtype=torch.float32)


class MuonAdamW:
    def __init__(self, model, matrix_lr=0.04, embedding_lr=0.6, unembedding_lr=0.004, scalar_lr=0.5, betas=(0.8, 0.95)):
        s_d = (model.cfg.n_embd / 768) ** -0.5
        ve = [e.weight for e in model.value_embeds.values()]
        self.adam_groups = [
            ([model.lm_head.weight], unembedding_lr * s_d, betas),
            ([model.wte.weight], embedding_lr * s_d, betas),
            (ve, embedding_lr * s_d, betas),
            ([model.resid_lambdas], scalar_lr * 0.01, betas),
            ([model.x0_lambdas], scalar_lr, (0.96, 0.95)),
        ]
        self.adam_state = {p: (torch.zeros_like(p, dtype=torch.float32), torch.zeros_like(p, dtype=torch.float32))
                           for params, _, _ in self.adam_groups for p in params}
        by_shape: dict[tuple, list] = {}
        for p in model.blocks.parameters():
            by_shape.setdefault(tuple(p.shape), []).append(p)
        self.muon_groups = []
        for (rows, cols), params in by_shape.items():
            k = len(params)
            sm_shape = (k, rows, 1) if rows >= cols else (k, 1, cols)
            self.muon_groups.append((params, matrix_lr * max(1.0, rows / cols) ** 0.5,
                                     torch.zeros(k, rows, cols, device=params[0].device),
                                     torch.zeros(sm_shape, device=params[0].device)))
        self.steps = 0
        self.t = {name: scalar(0.0) for name in ("step", "lr", "beta1", "beta2", "eps", "wd", "momentum")}

    @torch.no_grad()
    def step(self, lr_multiplier: float, muon_momentum: float, muon_weight_decay: float):
        self.steps += 1
        t = self.t
        t["step"].fill_(self.steps)
        t["eps"].fill_(1e-10)
        t["wd"].fill_(0.0)
        for params, lr, (b1, b2) in self.adam_groups:
            t["lr"].fill_(lr * lr_multiplier)
            t["beta1"].fill_(b1)
            t["beta2"].fill_(b2)
            for p in params:
                if p.grad is not None:
                    m, v = self.adam_state[p]
                    adamw_step(p, p.grad, m, v, t["step"], t["lr"], t["beta1"], t["beta2"], t["eps"], t["wd"])
        t["momentum"].fill_(muon_momentum)
        t["wd"].fill_(muon_weight_decay)
        t["beta2"].fill_(0.95)
        for params, lr, momentum_buffer, second_momentum in self.muon_groups:
            t["lr"].fill_(lr * lr_multiplier)
            stacked = torch.stack([p.data for p in params])
            muon_step(torch.stack([p.grad for p in params]), stacked, momentum_buffer, second_momentum, t["momentum"], t["lr"], t["wd"], t["beta2"])
            torch._foreach_copy_([p.data for p in params], list(stacked.unbind(0)))
