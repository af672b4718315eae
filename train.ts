/**
 * autoresearch pretraining script: one GPU (or the CPU), one file, a fixed time budget.
 * The agent edits this file and nothing else. It may import only the engine and prepare.ts.
 *
 * Usage: npm run train -- [--profile cpu]   (or: npx tsx train.ts)
 */
import * as torch from "./src/engine/index.ts";
import { F, nn, Tensor } from "./src/engine/index.ts";
import {
  MAX_SEQ_LEN, TIME_BUDGET, VOCAB_SIZE, SEED, loadTokenizer, makeDataloader, evaluateBpb, logProgress, dryRunExit, reportResults, trainingTime,
} from "./prepare.ts";

// ---------------------------------------------------------------------------
// GPT model
// ---------------------------------------------------------------------------

interface GPTConfig {
  sequenceLen: number;
  vocabSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  windowPattern: string;
}

const VE_GATE_CHANNELS = 32;
const SOFTCAP = 15;

/** Value embeddings on alternating layers, the last one always included. */
function hasVe(layerIdx: number, nLayer: number): boolean {
  return layerIdx % 2 === (nLayer - 1) % 2;
}

/** Attention window per layer from the pattern: L = full context, S = half; the last layer is always L. */
function windowSizes(config: GPTConfig): number[] {
  const pattern = config.windowPattern.toUpperCase();
  if (!/^[SL]+$/.test(pattern)) throw new Error(`Expected WINDOW_PATTERN to use only S and L, got "${config.windowPattern}"`);
  const long = config.sequenceLen, short = Math.floor(long / 2);
  const sizes = Array.from({ length: config.nLayer }, (_, i) => (pattern[i % pattern.length] === "L" ? long : short));
  sizes[config.nLayer - 1] = long;
  return sizes;
}

class CausalSelfAttention extends nn.Module {
  headDim: number;
  c_q: nn.Linear;
  c_k: nn.Linear;
  c_v: nn.Linear;
  c_proj: nn.Linear;
  ve_gate: nn.Linear | null;

  constructor(readonly config: GPTConfig, layerIdx: number, device: torch.Device) {
    super();
    this.headDim = config.nEmbd / config.nHead;
    this.c_q = new nn.Linear(config.nEmbd, config.nEmbd, { device });
    this.c_k = new nn.Linear(config.nEmbd, config.nEmbd, { device });
    this.c_v = new nn.Linear(config.nEmbd, config.nEmbd, { device });
    this.c_proj = new nn.Linear(config.nEmbd, config.nEmbd, { device });
    this.ve_gate = hasVe(layerIdx, config.nLayer) ? new nn.Linear(VE_GATE_CHANNELS, config.nHead, { device }) : null;
  }

  forward(x: Tensor, ve: Tensor | null, cos: Tensor, sin: Tensor, window: number): Tensor {
    const [B, T, C] = x.shape;
    const H = this.config.nHead, D = this.headDim;
    const q = this.c_q.forward(x).view(B, T, H, D);
    const k = this.c_k.forward(x).view(B, T, H, D);
    let v = this.c_v.forward(x).view(B, T, H, D);
    // Value residual: mix in the value embedding with an input-dependent gate per head.
    if (ve !== null && this.ve_gate !== null) {
      const gate = F.sigmoid(this.ve_gate.forward(x.slice(-1, 0, VE_GATE_CHANNELS))).mul(2);
      v = v.add(gate.unsqueeze(-1).mul(ve.view(B, T, H, D)));
    }
    const qn = F.rmsNorm(F.applyRotary(q, cos, sin));
    const kn = F.rmsNorm(F.applyRotary(k, cos, sin));
    const y = F.attention(qn, kn, v, { window });
    return this.c_proj.forward(y.view(B, T, C));
  }
}

class MLP extends nn.Module {
  c_fc: nn.Linear;
  c_proj: nn.Linear;

  constructor(config: GPTConfig, device: torch.Device) {
    super();
    this.c_fc = new nn.Linear(config.nEmbd, 4 * config.nEmbd, { device });
    this.c_proj = new nn.Linear(4 * config.nEmbd, config.nEmbd, { device });
  }

  forward(x: Tensor): Tensor {
    return this.c_proj.forward(F.reluSquare(this.c_fc.forward(x)));
  }
}

class Block extends nn.Module {
  attn: CausalSelfAttention;
  mlp: MLP;

  constructor(config: GPTConfig, layerIdx: number, device: torch.Device) {
    super();
    this.attn = new CausalSelfAttention(config, layerIdx, device);
    this.mlp = new MLP(config, device);
  }

  /** residLambda and x0Lambda: this layer's learned mix of the residual stream and the first embedding. */
  forward(x: Tensor, x0: Tensor, residLambda: Tensor, x0Lambda: Tensor, ve: Tensor | null, cos: Tensor, sin: Tensor, window: number): Tensor {
    x = F.scaledAdd(x, residLambda, x0, x0Lambda); // residLambda * x + x0Lambda * x0, fused
    x = x.add(this.attn.forward(F.rmsNorm(x), ve, cos, sin, window));
    return x.add(this.mlp.forward(F.rmsNorm(x)));
  }
}

class GPT extends nn.Module {
  wte: nn.Embedding;
  h: Block[];
  lm_head: nn.Linear;
  resid_lambdas: Tensor;
  x0_lambdas: Tensor;
  value_embeds: (nn.Embedding | null)[];
  cos: Tensor;
  sin: Tensor;
  windows: number[];

  /**
   * computeDtype: bf16 on the GPU (autocast matmuls, embeddings stored in bf16), f32 on the CPU.
   * On the "meta" device the model has its parameters' shapes and dtypes but no memory.
   */
  constructor(readonly config: GPTConfig, device: torch.Device, readonly computeDtype: torch.DType) {
    super();
    this.windows = windowSizes(config);
    this.wte = new nn.Embedding(config.vocabSize, config.nEmbd, { device, dtype: computeDtype });
    this.h = Array.from({ length: config.nLayer }, (_, i) => new Block(config, i, device));
    this.lm_head = new nn.Linear(config.nEmbd, config.vocabSize, { device });
    this.resid_lambdas = nn.Parameter([config.nLayer], "f32", device);
    this.x0_lambdas = nn.Parameter([config.nLayer], "f32", device);
    this.value_embeds = this.h.map((_, i) => (hasVe(i, config.nLayer) ? new nn.Embedding(config.vocabSize, config.nEmbd, { device, dtype: computeDtype }) : null));
    const [cos, sin] = this.precomputeRotary(config.sequenceLen, config.nEmbd / config.nHead);
    this.cos = this.registerBuffer(cos);
    this.sin = this.registerBuffer(sin);
  }

  initWeights(): void {
    const s = Math.sqrt(3) * this.config.nEmbd ** -0.5;
    torch.normal_(this.wte.weight, 0, 1);
    torch.normal_(this.lm_head.weight, 0, 0.001);
    for (const block of this.h) {
      for (const lin of [block.attn.c_q, block.attn.c_k, block.attn.c_v, block.mlp.c_fc]) torch.uniform_(lin.weight, -s, s);
      block.attn.c_proj.weight.zero_();
      block.mlp.c_proj.weight.zero_();
      block.attn.ve_gate?.weight.zero_();
    }
    this.resid_lambdas.fill_(1.0);
    this.x0_lambdas.fill_(0.1);
    for (const ve of this.value_embeds) if (ve) torch.uniform_(ve.weight, -s, s);
  }

  /** Training FLOPs per token: 6 per matmul weight (not the embeddings' lookups) plus attention over each layer's window. */
  estimateFlops(): number {
    const nparams = this.numParameters();
    const valueEmbedsNumel = this.value_embeds.reduce((n, ve) => n + (ve?.weight.numel ?? 0), 0);
    const nparamsExclude = this.wte.weight.numel + valueEmbedsNumel + this.resid_lambdas.numel + this.x0_lambdas.numel;
    const h = this.config.nHead, q = this.config.nEmbd / this.config.nHead, t = this.config.sequenceLen;
    const attnFlops = this.windows.reduce((sum, window) => sum + 12 * h * q * Math.min(window, t), 0);
    return 6 * (nparams - nparamsExclude) + attnFlops;
  }

  /** Parameter counts by kind, from the model's own parameters. */
  numScalingParams(): Record<"wte" | "value_embeds" | "lm_head" | "transformer_matrices" | "scalars" | "total", number> {
    const count = (ps: Tensor[]) => ps.reduce((n, p) => n + p.numel, 0);
    const wte = count(this.wte.parameters());
    const value_embeds = count(this.value_embeds.flatMap((ve) => (ve ? ve.parameters() : [])));
    const lm_head = count(this.lm_head.parameters());
    const transformer_matrices = count(this.h.flatMap((block) => block.parameters()));
    const scalars = this.resid_lambdas.numel + this.x0_lambdas.numel;
    return { wte, value_embeds, lm_head, transformer_matrices, scalars, total: wte + value_embeds + lm_head + transformer_matrices + scalars };
  }

  /** AdamW for the embeddings, lm_head and scalars; Muon for the block matrices, one group per shape. */
  setupOptimizer({ unembeddingLr = 0.004, embeddingLr = 0.2, matrixLr = 0.02, weightDecay = 0.0, adamBetas = [0.8, 0.95] as [number, number], scalarLr = 0.5 } = {}): MuonAdamW {
    const modelDim = this.config.nEmbd;
    const matrixParams = this.h.flatMap((block) => block.parameters());
    const valueEmbedsParams = this.value_embeds.flatMap((ve) => (ve ? ve.parameters() : []));
    const embeddingParams = this.wte.parameters();
    const lmHeadParams = this.lm_head.parameters();
    const residParams = [this.resid_lambdas], x0Params = [this.x0_lambdas];
    const grouped = matrixParams.length + valueEmbedsParams.length + embeddingParams.length + lmHeadParams.length + 2;
    if (grouped !== this.parameters().length) throw new Error(`setupOptimizer: ${grouped} parameters in groups but the model has ${this.parameters().length}`);
    // Scale the AdamW LRs by 1/sqrt(dmodel): they were tuned at 768.
    const dmodelLrScale = (modelDim / 768) ** -0.5;
    console.log(`Scaling AdamW LRs by 1/sqrt(${modelDim}/768) = ${dmodelLrScale.toFixed(6)}`);
    const adamw = (params: Tensor[], lr: number, betas: [number, number]): ParamGroup => ({ kind: "adamw", params, lr, initialLr: lr, betas, eps: 1e-10, weightDecay: 0.0 });
    const paramGroups: ParamGroup[] = [
      adamw(lmHeadParams, unembeddingLr * dmodelLrScale, adamBetas),
      adamw(embeddingParams, embeddingLr * dmodelLrScale, adamBetas),
      adamw(valueEmbedsParams, embeddingLr * dmodelLrScale, adamBetas),
      adamw(residParams, scalarLr * 0.01, adamBetas),
      adamw(x0Params, scalarLr, [0.96, 0.95]), // higher beta1 for x0
    ];
    for (const shape of [...new Set(matrixParams.map((p) => p.shape.join("x")))].sort()) {
      const params = matrixParams.filter((p) => p.shape.join("x") === shape);
      paramGroups.push({ kind: "muon", params, lr: matrixLr, initialLr: matrixLr, momentum: 0.95, nsSteps: 5, beta2: 0.95, weightDecay });
    }
    return new MuonAdamW(paramGroups);
  }

  precomputeRotary(seqLen: number, headDim: number, base = 10000): [Tensor, Tensor] {
    const half = headDim / 2;
    const angles = new Float32Array(seqLen * half);
    for (let t = 0; t < seqLen; t++) for (let j = 0; j < half; j++) angles[t * half + j] = t / base ** ((2 * j) / headDim);
    const device = this.wte.weight.device;
    const cos = torch.tensor(angles.map(Math.cos), [seqLen, half], { device });
    const sin = torch.tensor(angles.map(Math.sin), [seqLen, half], { device });
    return [cos, sin];
  }

  forward(idx: Tensor, targets: Tensor, reduction: "mean" | "none" = "mean"): Tensor {
    // Matmuls in bf16 on the GPU (fp32 master weights), like torch.autocast; fp32 on the CPU.
    return torch.autocast(this.computeDtype, () => this.forwardLoss(idx, targets, reduction));
  }

  forwardLoss(idx: Tensor, targets: Tensor, reduction: "mean" | "none"): Tensor {
    const [, T] = idx.shape;
    const cos = this.cos.slice(0, 0, T), sin = this.sin.slice(0, 0, T);
    let x = F.rmsNorm(this.wte.forward(idx));
    const x0 = x;
    // Each block call mixes in x0 itself: a module call hands back its temporaries when it returns.
    this.h.forEach((block, i) => {
      const ve = this.value_embeds[i]?.forward(idx) ?? null;
      x = block.forward(x, x0, this.resid_lambdas.slice(0, i, i + 1), this.x0_lambdas.slice(0, i, i + 1), ve, cos, sin, this.windows[i]);
    });
    x = F.rmsNorm(x);
    const logits = this.lm_head.forward(x);
    // Logit softcap SOFTCAP * tanh(logits / SOFTCAP), fused into the loss kernel, which computes
    // in fp32 whatever the logits' dtype (the reference's logits.float(), without the copy).
    return F.crossEntropy(logits, targets, { ignoreIndex: -1, reduction, softcap: SOFTCAP });
  }
}

// ---------------------------------------------------------------------------
// Optimizer (MuonAdamW, single device)
// ---------------------------------------------------------------------------

/** (a, b, c) per Polar Express iteration: X <- aX + b(XX^T)X + c(XX^T)^2 X. */
const polar_express_coeffs: [number, number, number][] = [
  [8.156554524902461, -22.48329292557795, 15.878769915207462],
  [4.042929935166739, -2.808917465908714, 0.5000178451051316],
  [3.8916678022926607, -2.772484153217685, 0.5060648178503393],
  [3.285753657755655, -2.3681294933425376, 0.46449024233003106],
  [2.3465413258596377, -1.7097828382687081, 0.42323551169305323],
];

/** One Muon step for k same-shape matrices, their state stacked as (k, rows, cols). */
function muon_step(params: Tensor[], momentum_buffer: Tensor, second_momentum_buffer: Tensor, momentum: number, lr: number, wd: number, beta2: number, ns_steps: number): void {
  // Nesterov momentum, fused: momentum_buffer.lerp_(g, 1 - momentum); g = g.lerp(momentum_buffer, momentum)
  const g = F.nesterovMomentum_(params.map((p) => p.grad!), momentum_buffer, momentum);

  // Polar Express: orthogonalise each matrix in bf16, from g scaled to a spectral norm below 1
  let X = g.div(g.norm([-2, -1], true).mul(1.02).add(1e-6)).to("bf16");
  const tall = g.size(-2) > g.size(-1);
  for (const [a, b, c] of polar_express_coeffs.slice(0, ns_steps)) {
    const A = tall ? X.mT.matmul(X) : X.matmul(X.mT);
    const B = torch.baddbmm(A, A, A, { beta: b, alpha: c }); // b * A + c * A @ A
    X = tall ? torch.baddbmm(X, X, B, { beta: a }) : torch.baddbmm(X, B, X, { beta: a }); // a * X + X @ B (or B @ X)
  }

  // NorMuon variance reduction, fused: a per-row (per-column if wide) second moment of X, renormalised
  const scale = F.normuonScale_(X, second_momentum_buffer, beta2);

  // Cautious weight decay + update, fused: u = X * scale; p -= lr * u + lr * wd * p * (u * p >= 0)
  F.cautiousUpdate_(params, X, scale, { lr, weightDecay: wd });
}

type ParamGroup =
  | { kind: "adamw"; params: Tensor[]; lr: number; initialLr: number; betas: [number, number]; eps: number; weightDecay: number }
  | { kind: "muon"; params: Tensor[]; lr: number; initialLr: number; momentum: number; nsSteps: number; beta2: number; weightDecay: number };

class MuonAdamW {
  private readonly adamState = new Map<Tensor, { step: number; expAvg: Tensor; expAvgSq: Tensor }>();
  private readonly muonState = new Map<ParamGroup, { momentumBuffer: Tensor; secondMomentumBuffer: Tensor }>();

  constructor(readonly paramGroups: ParamGroup[]) {}

  private stepAdamw(group: Extract<ParamGroup, { kind: "adamw" }>): void {
    for (const p of group.params) {
      if (!p.grad) continue;
      let state = this.adamState.get(p);
      if (!state) {
        // The moments are fp32 whatever the parameter's dtype (bf16 embeddings on the GPU).
        const opts = { dtype: p.dtype === "f64" ? "f64" as const : "f32" as const, device: p.device, persistent: true };
        state = { step: 0, expAvg: torch.zeros(p.shape, opts), expAvgSq: torch.zeros(p.shape, opts) };
        this.adamState.set(p, state);
      }
      state.step += 1;
      // Fused: p *= 1 - lr wd; m = lerp(m, g, 1 - b1); v = lerp(v, g^2, 1 - b2); p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps)
      F.adamwStep_(p, p.grad, state.expAvg, state.expAvgSq, { step: state.step, lr: group.lr, betas: group.betas, eps: group.eps, weightDecay: group.weightDecay });
    }
  }

  private stepMuon(group: Extract<ParamGroup, { kind: "muon" }>): void {
    const params = group.params;
    if (params.length === 0 || params.some((p) => !p.grad)) return;
    const [rows, cols] = params[0].shape;
    let state = this.muonState.get(group);
    if (!state) {
      const opts = { dtype: params[0].dtype, device: params[0].device, persistent: true };
      state = {
        momentumBuffer: torch.zeros([params.length, rows, cols], opts),
        secondMomentumBuffer: torch.zeros(rows >= cols ? [params.length, rows, 1] : [params.length, 1, cols], opts),
      };
      this.muonState.set(group, state);
    }
    const lr = group.lr * Math.max(1.0, rows / cols) ** 0.5;
    muon_step(params, state.momentumBuffer, state.secondMomentumBuffer, group.momentum, lr, group.weightDecay, group.beta2, group.nsSteps);
  }

  step(): void {
    torch.noGrad(() => {
      for (const group of this.paramGroups) {
        if (group.kind === "adamw") this.stepAdamw(group);
        else this.stepMuon(group);
      }
    });
  }
}

// ---------------------------------------------------------------------------
// Hyperparameters (edit these directly)
// ---------------------------------------------------------------------------

// Model architecture
const ASPECT_RATIO = 64; // model_dim = depth * ASPECT_RATIO
const HEAD_DIM = 128; // target head dimension for attention
const WINDOW_PATTERN = "SSSL"; // sliding window pattern: L = full, S = half context

// Optimization
const TOTAL_BATCH_SIZE = 2 ** 19; // ~524K tokens per optimizer step
const EMBEDDING_LR = 0.6; // learning rate for token embeddings (Adam)
const UNEMBEDDING_LR = 0.004; // learning rate for lm_head (Adam)
const MATRIX_LR = 0.04; // learning rate for matrix parameters (Muon)
const SCALAR_LR = 0.5; // learning rate for per-layer scalars (Adam)
const WEIGHT_DECAY = 0.2; // cautious weight decay for Muon
const ADAM_BETAS: [number, number] = [0.8, 0.95]; // Adam beta1, beta2
const WARMUP_RATIO = 0.0; // fraction of the time budget for LR warmup
const WARMDOWN_RATIO = 0.5; // fraction of the time budget for LR warmdown
const FINAL_LR_FRAC = 0.0; // final LR as a fraction of the initial LR

// Model size
const DEPTH = 8; // number of transformer layers
const DEVICE_BATCH_SIZE = 128; // per-device batch size (reduce if out of memory)

// ---------------------------------------------------------------------------
// Setup: model, optimizer, dataloader
// ---------------------------------------------------------------------------

const t_start = performance.now();
torch.manualSeed(SEED); // 42 unless the runner re-measures with another seed
const info = torch.backend();
const device = info.backend;
const compute_dtype: torch.DType = device === "cuda" ? "bf16" : "f32";

const model_dim = Math.ceil((DEPTH * ASPECT_RATIO) / HEAD_DIM) * HEAD_DIM;
const config: GPTConfig = {
  sequenceLen: MAX_SEQ_LEN, vocabSize: VOCAB_SIZE, nLayer: DEPTH, nHead: model_dim / HEAD_DIM, nEmbd: model_dim, windowPattern: WINDOW_PATTERN,
};
// Counted on the meta device (shapes only), so --dry-run allocates nothing.
const meta_model = new GPT(config, "meta", compute_dtype);
const param_counts = meta_model.numScalingParams();
const num_params = param_counts.total;
const num_flops_per_token = meta_model.estimateFlops();
const tokens_per_fwdbwd = DEVICE_BATCH_SIZE * MAX_SEQ_LEN;
if (TOTAL_BATCH_SIZE % tokens_per_fwdbwd !== 0) {
  throw new Error(`TOTAL_BATCH_SIZE (${TOTAL_BATCH_SIZE}) must be divisible by DEVICE_BATCH_SIZE * MAX_SEQ_LEN (${DEVICE_BATCH_SIZE} * ${MAX_SEQ_LEN} = ${tokens_per_fwdbwd})`);
}
const grad_accum_steps = TOTAL_BATCH_SIZE / tokens_per_fwdbwd;
console.log(`Device: ${info.device} (${device}), model config: ${JSON.stringify(config)}`);
console.log(`Parameter counts: ${JSON.stringify(param_counts)}`);
console.log(`Estimated FLOPs per token: ${num_flops_per_token.toExponential(6)}`);
console.log(`Tokens / fwdbwd: ${tokens_per_fwdbwd}, gradient accumulation steps: ${grad_accum_steps}`);
dryRunExit({ num_params, num_params_M: num_params / 1e6, flops_per_token: num_flops_per_token, depth: DEPTH });

const model = torch.persistent(() => new GPT(config, device, compute_dtype));
model.initWeights();

const optimizer = model.setupOptimizer({
  unembeddingLr: UNEMBEDDING_LR, embeddingLr: EMBEDDING_LR, scalarLr: SCALAR_LR, adamBetas: ADAM_BETAS, matrixLr: MATRIX_LR, weightDecay: WEIGHT_DECAY,
});

const tokenizer = await loadTokenizer();
const train_loader = makeDataloader(tokenizer, DEVICE_BATCH_SIZE, MAX_SEQ_LEN, "train");
const nextBatch = async () => (await train_loader.next()).value!;
function toDevice(batch: { inputs: Int32Array; targets: Int32Array }): [Tensor, Tensor] {
  const x = torch.tensor(batch.inputs, [DEVICE_BATCH_SIZE, MAX_SEQ_LEN], { dtype: "i32", device });
  const y = torch.tensor(batch.targets, [DEVICE_BATCH_SIZE, MAX_SEQ_LEN], { dtype: "i32", device });
  return [x, y];
}

console.log(`Time budget: ${TIME_BUDGET}s`);

// Schedules, all by progress = training_time / TIME_BUDGET.
function get_lr_multiplier(progress: number): number {
  if (progress < WARMUP_RATIO) return WARMUP_RATIO > 0 ? progress / WARMUP_RATIO : 1.0;
  if (progress < 1.0 - WARMDOWN_RATIO) return 1.0;
  const cooldown = (1.0 - progress) / WARMDOWN_RATIO;
  return cooldown * 1.0 + (1 - cooldown) * FINAL_LR_FRAC;
}

function get_muon_momentum(step: number): number {
  const frac = Math.min(step / 300, 1);
  return (1 - frac) * 0.85 + frac * 0.95;
}

function get_weight_decay(progress: number): number {
  return WEIGHT_DECAY * (1 - progress);
}

// ---------------------------------------------------------------------------
// Training loop
// ---------------------------------------------------------------------------

const peak_flops = torch.peakBf16Flops(info.device);
const t_start_training = performance.now();
let smooth_train_loss = 0;
let total_training_time = 0;
let step = 0;
let epoch = 1;
const loss_curve: [number, number][] = [];
let batch = await nextBatch();

for (;;) {
  const t0 = performance.now();
  let train_loss = 0;
  for (let micro_step = 0; micro_step < grad_accum_steps; micro_step++) {
    const [x, y] = toDevice(batch);
    epoch = batch.epoch;
    const loss = model.forward(x, y).div(grad_accum_steps);
    loss.backward();
    batch = await nextBatch(); // prefetch: packed on the host while the GPU works through this micro-step
    train_loss += loss.item();
    torch.resetArena(); // gradients are in the persistent .grad buffers; the activations can go
  }

  // Progress-based LR, momentum and weight decay.
  const progress = Math.min(total_training_time / TIME_BUDGET, 1.0);
  const lrm = get_lr_multiplier(progress);
  const muon_momentum = get_muon_momentum(step);
  const muon_weight_decay = get_weight_decay(progress);
  for (const group of optimizer.paramGroups) {
    group.lr = group.initialLr * lrm;
    if (group.kind === "muon") {
      group.momentum = muon_momentum;
      group.weightDecay = muon_weight_decay;
    }
  }
  optimizer.step();
  model.zeroGrad();
  torch.resetArena();

  // Fast fail: abort if the loss is exploding or NaN.
  if (Number.isNaN(train_loss) || train_loss > 100) {
    console.log("FAIL");
    throw new Error(`loss is ${train_loss} at step ${step}: aborting the run`);
  }

  torch.synchronize(device);
  const dt = (performance.now() - t0) / 1000;
  total_training_time = trainingTime(); // the harness's budget clock, not this process's (see prepare.ts)

  // Logging
  const ema_beta = 0.9;
  smooth_train_loss = ema_beta * smooth_train_loss + (1 - ema_beta) * train_loss;
  const debiased_smooth_loss = smooth_train_loss / (1 - ema_beta ** (step + 1));
  loss_curve.push([step, train_loss]);
  const pct_done = 100 * Math.min(total_training_time / TIME_BUDGET, 1.0);
  const tok_per_sec = Math.round(TOTAL_BATCH_SIZE / dt);
  const mfu = peak_flops ? `${((100 * num_flops_per_token * TOTAL_BATCH_SIZE) / dt / peak_flops).toFixed(1)}%` : "n/a";
  const remaining = Math.max(0, TIME_BUDGET - total_training_time);
  logProgress(
    `step ${String(step).padStart(5, "0")} (${pct_done.toFixed(1)}%) | loss: ${debiased_smooth_loss.toFixed(6)} | lrm: ${lrm.toFixed(2)} | ` +
      `dt: ${(dt * 1000).toFixed(0)}ms | tok/sec: ${tok_per_sec.toLocaleString("en-US")} | mfu: ${mfu} | epoch: ${epoch} | remaining: ${remaining.toFixed(0)}s`,
  );

  step++;
  // The budget's clock starts at the end of step 0; the runner stops a run that trains past it.
  if (total_training_time >= TIME_BUDGET) break;
}

const total_tokens = step * TOTAL_BATCH_SIZE;

// Final evaluation: prepare.ts computes val_bpb (the runner recomputes it in a separate process).
const val_bpb = await evaluateBpb(model, DEVICE_BATCH_SIZE);

const t_end = performance.now();
const steady_state_mfu = peak_flops && total_training_time > 0
  ? (100 * num_flops_per_token * TOTAL_BATCH_SIZE * (step - 1)) / total_training_time / peak_flops
  : null;
reportResults({
  val_bpb,
  training_seconds: total_training_time,
  total_seconds: (t_end - t_start) / 1000,
  peak_vram_mb: torch.memoryStats(device).peakBytes / 1024 / 1024,
  mfu_percent: steady_state_mfu,
  total_tokens_M: total_tokens / 1e6,
  num_steps: step,
  num_params_M: num_params / 1e6,
  depth: DEPTH,
  loss_curve,
});
