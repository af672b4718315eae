/** Reverse-mode autograd: the tape node and backward(). */
import type { Tensor } from "./tensor.ts";
import type { OpDef } from "./op-registry.ts";
import { noGrad } from "./grad-mode.ts";
import { unref } from "./module-scope.ts";
import { trackAllocations, type Storage } from "./memory.ts";
import { timeOp } from "./op-timer.ts";

/** One recorded op application: what backward needs to call the op's backward. */
export interface Node {
  op: OpDef;
  inputs: Tensor[];
  outputs: Tensor[];
  attrs: unknown;
  saved: Tensor[];
  /** The arena storages backward reads (each holds one of their tapeRefs until backward ran). */
  kept: Storage[];
  /** Set once backward ran and let go of `kept`. */
  done: boolean;
}

/**
 * Accumulates `root`'s gradient into every leaf that requires grad. Gradients and temporaries
 * that backward itself allocated go back to the arena as soon as they are consumed, and so do
 * forward activations that module calls left to the tape (module-scope.ts) after their last use.
 */
export function runBackward(root: Tensor, grad: Tensor): void {
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  // How many entries of `grads` use each storage (views share one), and what must survive.
  const refs = new Map<Storage, number>();
  const created = new Set<Storage>();
  const kept = new Set<Storage>([grad.storage]);
  const hold = (t: Tensor) => refs.set(t.storage, (refs.get(t.storage) ?? 0) + 1);
  const releaseIfFree = (s: Storage) => {
    if (created.has(s) && !kept.has(s) && !refs.has(s)) s.release();
  };
  const drop = (t: Tensor) => {
    const n = refs.get(t.storage)! - 1;
    if (n > 0) refs.set(t.storage, n);
    else {
      refs.delete(t.storage);
      releaseIfFree(t.storage);
    }
  };
  hold(grad);
  noGrad(() => {
    for (const node of order) {
      const outGrads = node.outputs.map((o) => grads.get(o) ?? null);
      if (outGrads.every((g) => g === null)) {
        letGo(node);
        continue;
      }
      if (node.done && node.kept.some((s) => !s.alive)) {
        throw new Error(`backward: ${node.op.name} needs tensors that the first backward through this graph released; run the forward pass again`);
      }
      for (const o of node.outputs) grads.delete(o);
      const [inGrads, scope] = trackAllocations(() => timeOp(node.op.name, () =>
        node.op.backward!({ inputs: node.inputs, outputs: node.outputs, attrs: node.attrs, saved: node.saved }, outGrads), "backward"));
      for (const s of scope) created.add(s);
      node.inputs.forEach((input, i) => {
        const g = inGrads[i];
        if (!g || !input.requiresGrad) return;
        if (input.gradFn) {
          const prev = grads.get(input);
          const [sum, extra] = prev ? trackAllocations(() => prev.add(g)) : [g, []];
          for (const s of extra) created.add(s);
          grads.set(input, sum);
          hold(sum);
          if (prev) drop(prev);
        } else {
          const [, extra] = trackAllocations(() => input.accumulateGrad(g));
          for (const s of extra) created.add(s);
          if (input.grad) kept.add(input.grad.storage);
        }
      });
      for (const s of scope) releaseIfFree(s);
      for (const g of outGrads) if (g) drop(g);
      letGo(node);
    }
    const rootLeaf = grads.get(root);
    if (rootLeaf && !root.gradFn && root.requiresGrad) root.accumulateGrad(rootLeaf);
  });
}

/** Backward has read what `node` kept: the module-released activations among it can go. */
function letGo(node: Node): void {
  if (node.done) return;
  node.done = true;
  for (const s of node.kept) unref(s);
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
