/** Rotary position embedding on (B, T, H, D) with cos/sin tables of shape (T, D/2). */
import { apply, opError } from "../dispatch.ts";
import { defineOp } from "../op-registry.ts";
import { native } from "../native.ts";
import { formatShape } from "../shape.ts";
import { Tensor } from "../tensor.ts";

function rotate(x: Tensor, cos: Tensor, sin: Tensor, sign: number): Tensor {
  const [B, T, H, D] = x.shape;
  const xc = x.contiguous(), c = cos.contiguous(), s = sin.contiguous();
  const out = Tensor.empty(x.shape, x.dtype, x.device);
  native.rotary(xc.storage.id, xc.offset, c.storage.id, c.offset, s.storage.id, s.offset, out.storage.id, 0, B, T, H, D, sign);
  return out;
}

const rotaryOp = defineOp<null>({
  name: "rotary",
  forward: ([x, cos, sin]) => ({ outputs: [rotate(x, cos, sin, 1)] }),
  // The rotation is orthogonal, so its gradient is the inverse rotation.
  backward: ({ inputs: [, cos, sin] }, [g]) => [rotate(g!, cos, sin, -1), null, null],
  keeps: ({ inputs: [, cos, sin] }) => [cos, sin],
});

/** y1 = x1 cos + x2 sin, y2 = -x1 sin + x2 cos over the two halves of the head dim. */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const bad = (msg: string) => opError("rotary", msg, [x, cos, sin]);
  if (x.ndim !== 4) throw bad("x must be (B, T, H, D)");
  const [, T, , D] = x.shape;
  if (D % 2 !== 0) throw bad(`head dim must be even, got ${D}`);
  for (const t of [cos, sin]) {
    if (t.ndim !== 2 || t.shape[0] < T || t.shape[1] !== D / 2) throw bad(`cos/sin must be (>= ${T}, ${D / 2}), got ${formatShape(t.shape)}`);
    if (t.dtype === "i32") throw bad("cos/sin must be floating-point");
  }
  // The tables follow x's dtype (bf16 under autocast, like the reference's bf16 cos/sin).
  const c = (cos.shape[0] === T ? cos : cos.slice(0, 0, T)).to(x.dtype);
  const s = (sin.shape[0] === T ? sin : sin.slice(0, 0, T)).to(x.dtype);
  return apply(rotaryOp, [x, c, s], null)[0];
}
