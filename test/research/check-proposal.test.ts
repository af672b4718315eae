import { describe, expect, it } from "vitest";
import { checkProposal } from "../../src/research/check-proposal.ts";
import { fingerprint } from "../../src/research/fingerprint.ts";
import type { Proposal } from "../../src/research/proposal.ts";
import { FIXTURE_ROOT, fixtureTrain } from "./fixtures.ts";

const deeper: Proposal = {
  title: "Deeper",
  hypothesis: "More layers.",
  edits: [{ file: "train.ts", search: "const DEPTH = 8;", replace: "const DEPTH = 10;" }],
};
const checks = { train: fixtureTrain, root: FIXTURE_ROOT, earlier: new Map<string, string>() };

describe("checkProposal", () => {
  it("accepts a good proposal and returns the new train.ts and its fingerprint", () => {
    const train = fixtureTrain.replace("const DEPTH = 8;", "const DEPTH = 10;");
    expect(checkProposal(deeper, checks)).toEqual({ ok: true, train, fingerprint: fingerprint(fixtureTrain, train) });
  });

  it("refuses a change to any file but train.ts before applying anything", () => {
    const proposal = { ...deeper, edits: [...deeper.edits, { file: "prepare.ts", search: "TIME_BUDGET = 1", replace: "TIME_BUDGET = 100" }] };
    expect(checkProposal(proposal, checks)).toEqual({ ok: false, errors: ["Expected only `train.ts` to change, got a change to `prepare.ts`"] });
  });

  it("refuses a duplicate of an earlier experiment, and a change to comments only", () => {
    const earlier = new Map([[fingerprint(fixtureTrain, fixtureTrain.replace("const DEPTH = 8;", "const DEPTH = 10;"))!, "Try depth 10"]]);
    const respaced = { ...deeper, edits: [{ file: "train.ts", search: "const DEPTH = 8;", replace: "const  DEPTH  =  10;" }] };
    expect(checkProposal(respaced, { ...checks, earlier })).toEqual({
      ok: false,
      errors: ['Expected a new experiment, got a duplicate of the earlier experiment "Try depth 10"'],
    });
    const comment = { ...deeper, edits: [{ file: "train.ts", search: "// Hyperparameters", replace: "// The hyperparameters" }] };
    expect(checkProposal(comment, checks)).toEqual({ ok: false, errors: ["Expected the edits to change code, got a change to whitespace or comments only"] });
  });

  it("refuses what the import guard or the type-check refuses, with every error", () => {
    const sneaky: Proposal = {
      ...deeper,
      edits: [{ file: "train.ts", search: "const DEPTH = 8;", replace: "const DEPTH = Number(process.env.DEPTH ?? 8);" }],
    };
    const result = checkProposal(sneaky, checks);
    expect(result.ok).toBe(false);
    const line = fixtureTrain.split("\n").findIndex((l) => l.startsWith("const DEPTH")) + 1;
    expect(!result.ok && result.errors[0]).toBe(`train.ts:${line}:22 Expected no use of \`process\`, it reaches the environment and the process`);
    const typed = checkProposal({ ...deeper, edits: [{ file: "train.ts", search: "const DEPTH = 8;", replace: 'const DEPTH = "8";' }] }, checks);
    expect(!typed.ok && typed.errors.some((e) => e.includes("TS2362") || e.includes("TS2345") || e.includes("TS2363"))).toBe(true);
  });

  it("reports edits that do not apply", () => {
    const stale = { ...deeper, edits: [{ file: "train.ts", search: "const DEPTH = 12;", replace: "const DEPTH = 10;" }] };
    const line = fixtureTrain.split("\n").indexOf("const DEPTH = 8;") + 1;
    expect(checkProposal(stale, checks)).toEqual({
      ok: false,
      errors: [`Edit 1 (train.ts): the SEARCH text was not found. The closest lines of the file, ${line}-${line}, are (copy the SEARCH text from them):\n${String(line).padStart(5)} | const DEPTH = 8;`],
    });
  });
});
