// Scalar formulas for unary ops and their derivatives, shared by the CPU and CUDA backends.
#pragma once
#include <cmath>
#include "kernels.h"
#include "random.h"

namespace ar {

template <typename A>
AR_HD inline A unaryValue(UnaryOp op, A x, A s) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Relu: return x > A(0) ? x : A(0);
    case UnaryOp::Square: return x * x;
    case UnaryOp::Tanh: return tanh(x);
    case UnaryOp::Sigmoid: return A(1) / (A(1) + exp(-x));
    case UnaryOp::Rsqrt: return A(1) / sqrt(x);
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Abs: return x < A(0) ? -x : x;
    case UnaryOp::AddScalar: return x + s;
    case UnaryOp::MulScalar: return x * s;
    case UnaryOp::PowScalar: return pow(x, s);
    case UnaryOp::ReluSquare: return x > A(0) ? x * x : A(0);
    case UnaryOp::Softcap: return s * tanh(x / s);
    case UnaryOp::Sign: return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
    case UnaryOp::Step: return x >= A(0) ? A(1) : A(0);
  }
  return x;
}

// d op(x) / dx, given x and y = op(x).
template <typename A>
AR_HD inline A unaryDerivative(UnaryOp op, A x, A y, A s) {
  switch (op) {
    case UnaryOp::Neg: return A(-1);
    case UnaryOp::Relu: return x > A(0) ? A(1) : A(0);
    case UnaryOp::Square: return A(2) * x;
    case UnaryOp::Tanh: return A(1) - y * y;
    case UnaryOp::Sigmoid: return y * (A(1) - y);
    case UnaryOp::Rsqrt: return A(-0.5) * y / x;
    case UnaryOp::Exp: return y;
    case UnaryOp::Log: return A(1) / x;
    case UnaryOp::Sqrt: return A(0.5) / y;
    case UnaryOp::Abs: return x > A(0) ? A(1) : (x < A(0) ? A(-1) : A(0));
    case UnaryOp::AddScalar: return A(1);
    case UnaryOp::MulScalar: return s;
    case UnaryOp::PowScalar: return s * pow(x, s - A(1));
    // From the output, 2 relu(x) = 2 sqrt(y), so backward need not keep the input (the MLP's widest tensor).
    case UnaryOp::ReluSquare: return A(2) * sqrt(y);
    case UnaryOp::Softcap: { A t = y / s; return A(1) - t * t; }
    case UnaryOp::Sign:
    case UnaryOp::Step: return A(0);
  }
  return A(0);
}

template <typename A>
AR_HD inline A binaryValue(BinaryOp op, A a, A b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Max: return a > b ? a : b;
  }
  return a;
}

}  // namespace ar
