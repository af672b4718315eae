// CUDA kernel launchers, one family per file; the names mirror cpu/kernels.h. All launch on context().stream.
#pragma once
#include "../common/kernels.h"

namespace ar::cuda {

void fill(const FillArgs&);
void copy(const CopyArgs&);
void random(const RandomArgs&);
void binary(const BinaryArgs&);
void unary(const UnaryArgs&);
void unaryBackward(const UnaryBackwardArgs&);
void reduce(const ReduceArgs&);
void matmul(const MatmulArgs&);
void embeddingForward(const EmbeddingArgs&);
void embeddingBackward(const EmbeddingArgs&);
void rmsNormForward(const RmsNormArgs&);
void rmsNormBackward(const RmsNormBackwardArgs&);
void rotary(const RotaryArgs&);
void attentionForward(const AttentionArgs&);
void attentionBackward(const AttentionBackwardArgs&);
void softmaxForward(const SoftmaxArgs&);
void softmaxBackward(const SoftmaxBackwardArgs&);
void crossEntropyForward(const CrossEntropyArgs&);
void crossEntropyBackward(const CrossEntropyBackwardArgs&);
void adamw(const AdamwArgs&);

}  // namespace ar::cuda
