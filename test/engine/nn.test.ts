import { describe, expect, it } from "vitest";
import * as torch from "../../src/engine/index.ts";
import { nn } from "../../src/engine/index.ts";

class Block extends nn.Module {
  fc = new nn.Linear(4, 4);
}

class Model extends nn.Module {
  wte = new nn.Embedding(8, 4);
  h = [new Block(), new Block()];
}

describe("nn.Module parameter names", () => {
  it("are paths from the outermost module, even when a submodule listed them first", () => {
    const model = torch.persistent(() => new Model());
    // An optimizer set up per block lists the blocks' parameters before the model's are.
    expect(model.h[1].namedParameters().map(([n]) => n)).toEqual(["fc.weight"]);
    expect(model.wte.parameters()[0].name).toBe("weight");
    const named = model.namedParameters();
    expect(named.map(([n]) => n)).toEqual(["wte.weight", "h.0.fc.weight", "h.1.fc.weight"]);
    expect(named.map(([, p]) => p.name)).toEqual(["wte.weight", "h.0.fc.weight", "h.1.fc.weight"]);
  });
});
