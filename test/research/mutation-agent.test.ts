import { describe, expect, it } from "vitest";
import { AgentError } from "../../src/research/agent.ts";
import { checkProposal } from "../../src/research/check-proposal.ts";
import { fingerprint } from "../../src/research/fingerprint.ts";
import type { LedgerEntry } from "../../src/research/ledger.ts";
import { MutationAgent } from "../../src/research/mutation-agent.ts";
import { parseReply } from "../../src/research/parse-reply.ts";
import { readHyperparameters } from "../../src/runner/read-hyperparameters.ts";
import { FIXTURE_ROOT, fixtureTrain, researchFiles } from "./fixtures.ts";

const files = researchFiles();
const entry = (n: number, title: string, fingerprint: string): LedgerEntry => ({
  n, title, hypothesis: "", fingerprint, valBpb: null, delta: null, outcome: "regressed", crash: null,
});

describe("MutationAgent", () => {
  it("is deterministic for a seed and a ledger, and differs across seeds", async () => {
    const a = await new MutationAgent(7).propose({ files, ledger: [] });
    const b = await new MutationAgent(7).propose({ files, ledger: [] });
    const others = await Promise.all([1, 2, 3, 4].map((seed) => new MutationAgent(seed).propose({ files, ledger: [] })));
    expect(b).toEqual(a);
    expect(new Set(others.map((o) => o.text)).size).toBeGreaterThan(1);
    expect(a.tokens).toBe(0);
    expect(parseReply(a.text)).toEqual(a.proposal);
  });

  it("makes 25 distinct proposals that each change one const line and pass every check", async () => {
    const agent = new MutationAgent(3);
    const ledger: LedgerEntry[] = [];
    const names = new Set(readHyperparameters(fixtureTrain).map((p) => p.name));
    const earlier = new Map<string, string>();
    for (let i = 0; i < 25; i++) {
      const { proposal } = await agent.propose({ files, ledger });
      expect(proposal.edits).toHaveLength(1);
      const [edit] = proposal.edits;
      const name = /^const (\w+)/.exec(edit!.search)![1]!;
      expect(names.has(name)).toBe(true);
      expect(edit!.replace).toMatch(new RegExp(`^const ${name} = .+;$`));
      const checked = checkProposal(proposal, { train: fixtureTrain, root: FIXTURE_ROOT, earlier });
      expect(checked).toMatchObject({ ok: true });
      if (!checked.ok) return;
      earlier.set(checked.fingerprint, proposal.title);
      ledger.push(entry(i + 1, proposal.title, checked.fingerprint));
    }
    expect(earlier.size).toBe(25);
  });

  it("keeps the values sane: powers of two for batch sizes, betas below 1, ratios in [0, 1], patterns of S and L", async () => {
    const agent = new MutationAgent(11);
    const ledger: LedgerEntry[] = [];
    for (let i = 0; i < 60; i++) {
      const { proposal } = await agent.propose({ files, ledger });
      const changed = readHyperparameters(proposal.edits[0]!.replace)[0]!;
      const value = changed.value;
      if (changed.name === "DEVICE_BATCH_SIZE") expect([64, 256]).toContain(value);
      if (changed.name === "ADAM_BETAS") expect((value as number[]).every((b) => b > 0 && b < 1)).toBe(true);
      if (/RATIO$|FRAC$/.test(changed.name) && changed.name !== "ASPECT_RATIO") expect(value).toBeGreaterThanOrEqual(0);
      if (/RATIO$|FRAC$/.test(changed.name) && changed.name !== "ASPECT_RATIO") expect(value).toBeLessThanOrEqual(1);
      if (changed.name === "WINDOW_PATTERN") expect(value).toMatch(/^[SL]{4}$/);
      if (changed.name === "DEPTH") expect([6, 7, 9, 10]).toContain(value);
      ledger.push(entry(i, proposal.title, `${changed.name}=${JSON.stringify(value)}`));
    }
  });

  it("changes two hyperparameters at once when every single change was tried", async () => {
    const train = 'const DEPTH = 8;\nconst WINDOW_PATTERN = "SL";\n';
    const agent = new MutationAgent(1);
    const ledger: LedgerEntry[] = [];
    const singles = ["const DEPTH = 6;", "const DEPTH = 7;", "const DEPTH = 9;", "const DEPTH = 10;", 'const WINDOW_PATTERN = "SS";', 'const WINDOW_PATTERN = "LL";'];
    for (const [i, line] of singles.entries()) {
      const changed = line.startsWith("const DEPTH") ? train.replace("const DEPTH = 8;", line) : train.replace('const WINDOW_PATTERN = "SL";', line);
      ledger.push(entry(i + 1, line, fingerprint(train, changed)!));
    }
    const { proposal } = await agent.propose({ files: researchFiles({ "train.ts": train }), ledger });
    expect(proposal.edits.map((e) => e.search).sort()).toEqual(["const DEPTH = 8;", 'const WINDOW_PATTERN = "SL";']);
    expect(proposal.title).toMatch(/^Set \w+ to .+ \(was .+\) and Set \w+ to .+ \(was .+\)$/);
  });

  it("fails clearly when train.ts has no const block", async () => {
    const agent = new MutationAgent(1);
    await expect(agent.propose({ files: researchFiles({ "train.ts": "let x = 1;\n" }), ledger: [] })).rejects.toThrow(
      new AgentError("Expected train.ts to have `const NAME = literal` hyperparameters to mutate, got none", 0),
    );
  });
});
