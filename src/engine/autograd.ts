/** Reverse-mode autograd: grad mode, the tape node, and backward(). */
import type { Tensor } from "./tensor.ts";
import type { OpDef } from "./dispatch.ts";

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

/** One recorded op application: what backward needs to call the op's backward. */
export interface Node {
  op: OpDef;
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: unknown;
  saved: Tensor[];
}

/** Accumulates `loss`'s gradient into every leaf that requires grad. */
export function runBackward(root: Tensor, grad: Tensor): void {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  noGrad(() => {
    for (const node of order) {
      const outGrads = node.outputs.map((o) => grads.get(o) ?? null);
      if (outGrads.every((g) => g === null)) continue;
      for (const o of node.outputs) grads.delete(o);
      const inGrads = node.op.backward!({ inputs: node.inputs, outputs: node.outputs, attrs: node.attrs, saved: node.saved }, outGrads);
      node.inputs.forEach((input, i) => {
        const g = inGrads[i];
        if (!g || !input.requiresGrad) return;
        if (input.gradFn) {
          const prev = grads.get(input);
          grads.set(input, prev ? prev.add(g) : g);
        } else {
          input.accumulateGrad(g);
        }
      });
    }
    const rootLeaf = grads.get(root);
    if (rootLeaf && !root.gradFn && root.requiresGrad) root.accumulateGrad(rootLeaf);
  });
}

/** Nodes in reverse topological order, starting from the node that produced `root`. */
function topologicalOrder(root: Tensor): Node[] {
  const seen = new Set<Node>();
  const post: Node[] = [];
  const stack: { node: Node; next: number }[] = [];
  if (root.gradFn) stack.push({ node: root.gradFn, next: 0 });
  if (root.gradFn) seen.add(root.gradFn);
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.inputs.length) {
      const child = top.node.inputs[top.next++].gradFn;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push({ node: child, next: 0 });
      }
    } else {
      post.push(top.node);
      stack.pop();
    }
  }
  return post.reverse();
}
