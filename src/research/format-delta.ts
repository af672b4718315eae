/**
 * A difference of val_bpb (or any statistic) with its sign always shown, `+` or the minus
 * sign `−` (U+2212, as in the dashboard, the checks and the commit messages), never `-0`.
 */
export function formatDelta(x: number, digits = 6): string {
  const magnitude = Math.abs(x).toFixed(digits);
  if (Number(magnitude) === 0) return magnitude;
  return `${x > 0 ? "+" : "−"}${magnitude}`;
}
