/** `F`: the functional API train.ts uses, named like torch.nn.functional. */
export { linear, embedding, rmsNorm, applyRotary, attention, softmax, logSoftmax, crossEntropy,
  relu, reluSquare, sigmoid, tanh, softcap, scaledAdd } from "./ops/index.ts";
