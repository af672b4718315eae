/** Runs a variant of train.ts on a small profile in a temporary directory, as a child process. */
import { mkdtempSync, symlinkSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { setTrainConsts, trainSourceForProfile } from "../../src/runner/train-profiles.ts";

export const REPO = path.resolve(import.meta.dirname, "../..");

export interface TrainRun {
  exitCode: number;
  output: string;
  summaryPath: string;
}

/** train.ts for `profile`, with extra const overrides applied on top. */
export function trainVariant(profile: string, consts: Record<string, string> = {}): string {
  const base = trainSourceForProfile(readFileSync(path.join(REPO, "train.ts"), "utf8"), profile).source;
  return Object.keys(consts).length ? setTrainConsts(base, consts).source : base;
}

export async function runTrain(source: string, args: string[], env: Record<string, string>): Promise<TrainRun> {
  const dir = mkdtempSync(path.join(tmpdir(), "ar-train-"));
  for (const name of ["prepare.ts", "src", "node_modules", "build", "package.json"]) symlinkSync(path.join(REPO, name), path.join(dir, name));
  writeFileSync(path.join(dir, "train.ts"), source);
  const summaryPath = path.join(dir, "result.json");
  const r = await execa(process.execPath, ["--import", "tsx", "train.ts", ...args, "--summary-json", summaryPath], {
    cwd: dir, env, reject: false, all: true, timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? "", summaryPath };
}
