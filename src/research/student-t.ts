/**
 * Student's t distribution, for a difference of means whose noise is estimated from few
 * runs: P(T <= t) and its inverse at `freedom` degrees of freedom.
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, nine terms: about 15 significant digits). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the incomplete beta function (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let f = d;
  for (let m = 1; m <= 300; m++) {
    for (const numerator of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + numerator * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + numerator / c;
      if (Math.abs(c) < tiny) c = tiny;
      f *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return f;
}

/** The regularized incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast on one side of the mean; the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) covers the other.
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

function checkFreedom(freedom: number): void {
  if (!(freedom > 0)) throw new Error(`Expected degrees of freedom > 0, got \`${freedom}\``);
}

/** P(T <= t) for Student's t with `freedom` degrees of freedom. */
export function studentTCdf(t: number, freedom: number): number {
  checkFreedom(freedom);
  const tail = 0.5 * incompleteBeta(freedom / (freedom + t * t), freedom / 2, 0.5);
  return t > 0 ? 1 - tail : tail;
}

/** The t with P(T <= t) = p, found by bisection on the distribution function (to 1e-12 relative). */
export function studentTQuantile(p: number, freedom: number): number {
  checkFreedom(freedom);
  if (!(p > 0 && p < 1)) throw new Error(`Expected a probability strictly between 0 and 1, got \`${p}\``);
  if (p === 0.5) return 0;
  // Bracket by doubling: the tails are heavy at 1 degree of freedom (p = 1e-6 sits near t = -3e5).
  const sign = p < 0.5 ? -1 : 1;
  let lo = 0;
  let hi = 1;
  while (sign * (studentTCdf(sign * hi, freedom) - p) < 0) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (sign * (studentTCdf(sign * mid, freedom) - p) < 0) lo = mid;
    else hi = mid;
  }
  return (sign * (lo + hi)) / 2;
}
