/** `F`: the functional API train.ts uses, named like torch.nn.functional. */
export { linear, embedding, rmsNorm, applyRotary, attention, softmax, logSoftmax, crossEntropy,
  relu, reluSquare, sigmoid, tanh, softcap, scaledAdd } from "./ops/index.ts";
/** The fused optimizer steps train.ts's MuonAdamW calls (see ops/optim.ts for what each computes). */
export { adamwStep_, nesterovMomentum_, normuonScale_, cautiousUpdate_ } from "./ops/index.ts";
