import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ledgerJsonl, resultsTsv, resultStatus, writeLedger } from "../../src/local/write-ledger.ts";
import { baseline, experiment, measurement } from "../research/make-experiment.ts";

const experiments = [
  ...baseline(1, { sha: "p0aaaaaaaa", tree: "t0" }, [1.0014]),
  experiment(2, {
    title: "Raise\tthe LR\nto 0.05", head: { sha: "abcdef0123", tree: "t2" }, state: "merged", outcome: "improved",
    measurements: [measurement("abcdef0123", "t2", 0.98, { peakVramMb: 45060.2 }), measurement("abcdef0123", "t2", 0.96, { peakVramMb: 45100 })],
  }),
  experiment(3, { state: "closed", outcome: "regressed", measurements: [measurement("h3", "t3", 1.2)] }),
  experiment(4, { state: "closed", outcome: "crashed", measurements: [measurement("h4", "t4", null, { peakVramMb: 2048 })] }),
  experiment(5, { state: "closed", outcome: "inconclusive", measurements: [measurement("h5", "t5", 0.999)] }),
  experiment(6),
];

describe("the ledger files", () => {
  it("writes results.tsv in the reference's columns: 7-character commit, 0 for a crash, memory in GB, keep/discard/crash", () => {
    expect(resultsTsv(experiments)).toBe(
      [
        "commit\tval_bpb\tmemory_gb\tstatus\tdescription",
        "b1\t1.001400\t1.0\tkeep\tbaseline: Experiment 1",
        "abcdef0\t0.970000\t44.0\tkeep\tRaise the LR to 0.05",
        "h3\t1.200000\t1.0\tdiscard\tExperiment 3",
        "h4\t0.000000\t2.0\tcrash\tExperiment 4",
        "h5\t0.999000\t1.0\tdiscard\tExperiment 5",
        "",
      ].join("\n"),
    );
  });

  it("counts a baseline whose run crashed as a crash", () => {
    const [crashed] = baseline(1, { sha: "p0", tree: "t0" }, [1]);
    crashed!.measurements = [measurement("b1", "t0", null)];
    expect(resultStatus(crashed!)).toBe("crash");
  });

  it("writes every record, open ones included, to ledger.jsonl, and both files into the repository", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ar-ledger-"));
    await writeLedger(dir, [...experiments].reverse());
    const lines = readFileSync(path.join(dir, "ledger.jsonl"), "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toEqual(experiments);
    expect(readFileSync(path.join(dir, "ledger.jsonl"), "utf8")).toBe(ledgerJsonl(experiments));
    expect(readFileSync(path.join(dir, "results.tsv"), "utf8")).toBe(resultsTsv(experiments));
  });
});
