// CPU reference kernels, one family per file; the CUDA backend mirrors these names in cuda/.
#pragma once
#include "../common/kernels.h"

namespace ar::cpu {

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

}  // namespace ar::cpu
