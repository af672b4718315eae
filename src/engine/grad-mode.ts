/** Grad mode: whether ops record the tape. A leaf module (no imports), safe to load first. */
let gradEnabled = true;

/** True when ops record the tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording the tape, like `torch.no_grad()`. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}
