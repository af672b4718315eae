import { describe, expect, it } from "vitest";
import * as torch from "../../src/engine/index.ts";
import { F, nn } from "../../src/engine/index.ts";

class TinyMlp extends nn.Module {
  fc: nn.Linear;
  proj: nn.Linear;
  gain: torch.Tensor;
  constructor(device: torch.Device) {
    super();
    this.fc = new nn.Linear(16, 48, { device });
    this.proj = new nn.Linear(48, 16, { device, dtype: "bf16" });
    this.gain = nn.Parameter([16], "f32", device);
  }
  forward(x: torch.Tensor): torch.Tensor {
    return this.proj.forward(F.reluSquare(this.fc.forward(x)).to("bf16")).mul(this.gain);
  }
}

describe("the meta device", () => {
  it("registers parameters with shapes and dtypes and allocates nothing", () => {
    const before = torch.memoryStats("cpu");
    const model = new TinyMlp("meta");
    expect(model.namedParameters().map(([name, p]) => [name, p.shape, p.dtype, p.device])).toEqual([
      ["fc.weight", [48, 16], "f32", "meta"],
      ["proj.weight", [16, 48], "bf16", "meta"],
      ["gain", [16], "f32", "meta"],
    ]);
    expect(model.numParameters()).toBe(48 * 16 + 16 * 48 + 16);
    const after = torch.memoryStats("cpu");
    expect([after.persistentBytes, after.arenaUsedBytes]).toEqual([before.persistentBytes, before.arenaUsedBytes]);
  });

  it("runs ops for their shapes: a forward pass gives a meta tensor of the right shape and dtype", () => {
    const model = new TinyMlp("meta");
    const x = torch.Tensor.empty([2, 5, 16], "f32", "meta");
    const y = model.forward(x);
    expect([y.shape, y.dtype, y.device]).toEqual([[2, 5, 16], "f32", "meta"]); // bf16 times the f32 gain
    const h = F.rmsNorm(x.view(10, 16)).matmul(x.view(10, 16).mT).sum(-1);
    expect([h.shape, h.device]).toEqual([[10], "meta"]);
  });

  it("refuses to read values, naming the tensor", () => {
    const t = torch.zeros([3, 4], { device: "meta" });
    expect(() => t.item()).toThrow(/item: expected a tensor with one element/);
    expect(() => t.toArray()).toThrow("toArray: tensor [3, 4] f32 is on the meta device, which holds no values");
  });

  it("initialises without drawing: a real model built after a meta one gets the values it gets alone", () => {
    torch.manualSeed(5);
    const alone = new TinyMlp("cpu").fc.weight.toArray();
    torch.manualSeed(5);
    new TinyMlp("meta");
    const afterMeta = new TinyMlp("cpu").fc.weight.toArray();
    expect(Array.from(afterMeta)).toEqual(Array.from(alone));
  });
});
