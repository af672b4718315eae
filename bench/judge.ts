/**
 * bench:judge — the project's judge against greedy keep-if-better on simulated nights.
 *
 * Each night is 100 experiments on an in-memory forge, driven by the real plan() and judge()
 * (and the research step's carryOut()) at the default `noise` config and concurrency 1. The
 * proposals skip the agent and its checks (a TypeScript parse each, which would dominate the
 * time): experiment j sets
 * line j of train.ts, and its true effect on val_bpb is drawn from a mix; a run measures
 * val_bpb = 1 + the effects of the lines the code has + sigma x N(0, 1). Greedy runs the
 * same nights: one baseline run, one run per experiment, kept when it beats the value of
 * the run that made the head. Figures are per night, progress in units of sigma.
 *
 *   npm run bench:judge [-- --nights 60] [--concurrency 1]
 *
 * At concurrency N the forge runs every waiting run between steps, so N experiments are in
 * flight and a merge leaves the others on a stale parent (greedy stays sequential).
 */
import { parseArgs } from "node:util";
import { SeededRandom } from "../src/data/seeded-random.ts";
import type { ResearchFiles } from "../src/research/agent.ts";
import { plan, type PlanSettings } from "../src/research/plan.ts";
import { DEFAULT_CONFIG } from "../src/research/research-config.ts";
import { carryOut } from "../src/research/research-step.ts";
import { MemoryForge } from "../test/research/memory-forge.ts";

/** True effects in units of sigma (negative is a gain) and their chances. */
type Mix = Array<[effect: number, chance: number]>;
const MIXES: Record<string, Mix> = {
  // Issue 13's mix.
  issue: [[0, 0.7], [-1, 0.15], [-3, 0.05], [1, 0.1]],
  // A mature branch: gains are rarer and smaller, regressions commoner.
  hard: [[0, 0.8], [-1, 0.06], [-2, 0.02], [1, 0.12]],
};
const SIGMAS = [1e-4, 3e-4, 1e-3];
const EXPERIMENTS = 100;

/** What one night came to, per rule. */
interface Night {
  trueProgress: number;
  claimedProgress: number;
  nullMerges: number;
  regressionMerges: number;
  runs: number;
  /** By true effect: experiments, merges and their runs (test and confirmation). */
  byEffect: Map<number, { experiments: number; merges: number; runs: number }>;
}

class Normal {
  constructor(readonly random: SeededRandom) {}
  /** A standard normal draw (Box-Muller). */
  next(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random.next())) * Math.cos(2 * Math.PI * this.random.next());
  }
}

function drawEffects(mix: Mix, random: SeededRandom): number[] {
  return Array.from({ length: EXPERIMENTS }, () => {
    let u = random.next();
    for (const [effect, chance] of mix) if ((u -= chance) < 0) return effect;
    return mix.at(-1)![0];
  });
}

const line = (j: number, on: boolean) => `const E${j} = ${on ? 1 : 0};`;
const baseFiles = (): ResearchFiles => ({
  "program.md": "Lower val_bpb.",
  "prepare.ts": "export const TIME_BUDGET = 300;",
  "train.ts": Array.from({ length: EXPERIMENTS }, (_, j) => line(j, false)).join("\n"),
});

/** The night under the project's rule, through the real research step. */
async function projectNight(effects: number[], sigma: number, noise: Normal, settings: PlanSettings): Promise<Night> {
  const forge = new MemoryForge(baseFiles());
  let made = 0;
  const valueOf = (files: ResearchFiles) => {
    const lines = files["train.ts"].split("\n");
    let value = 1;
    for (let j = 0; j < EXPERIMENTS; j++) if (lines[j] === line(j, true)) value += effects[j]! * sigma;
    return value;
  };
  for (let step = 0; step < 20 * EXPERIMENTS; step++) {
    const state = await forge.load();
    const actions = plan(state, settings, { open: made < EXPERIMENTS, experimentsLeft: EXPERIMENTS - made });
    const head = await carryOut(forge, state.head, actions);
    for (const _ of actions.filter((a) => a.type === "propose")) {
      // Experiment j turns line j on: its change, replayed on any later head, keeps its effect.
      const train = (await forge.readFiles(head))["train.ts"].replace(line(made, false), line(made, true));
      await forge.start({ kind: "experiment", parent: head, title: `Experiment ${made}`, hypothesis: "-", train, fingerprint: `e${made}`, seed: 42, agent: "bench", tokens: 0 });
      made++;
    }
    const ran = forge.train((files) => valueOf(files) + sigma * noise.next());
    if (ran === 0 && forge.experiments.every((e) => e.state !== "open")) break;
  }
  const night: Night = { trueProgress: 0, claimedProgress: 0, nullMerges: 0, regressionMerges: 0, runs: 0, byEffect: new Map() };
  for (const e of forge.experiments) {
    night.runs += e.measurements.length;
    if (e.kind !== "experiment") continue;
    const effect = effects[Number(e.title.split(" ")[1])]!;
    const tally = night.byEffect.get(effect) ?? { experiments: 0, merges: 0, runs: 0 };
    night.byEffect.set(effect, { experiments: tally.experiments + 1, merges: tally.merges + Number(e.state === "merged"), runs: tally.runs + e.measurements.length });
    if (e.state !== "merged") continue;
    night.trueProgress -= effect;
    night.claimedProgress -= e.decision!.delta! / sigma;
    if (effect === 0) night.nullMerges++;
    if (effect > 0) night.regressionMerges++;
  }
  return night;
}

/** Greedy keep-if-better: one run each, the head's value is the run that made it. */
function greedyNight(effects: number[], noise: Normal): Night {
  let head = noise.next();
  const night: Night = { trueProgress: 0, claimedProgress: 0, nullMerges: 0, regressionMerges: 0, runs: 1, byEffect: new Map() };
  let truth = 0;
  for (const effect of effects) {
    const run = truth + effect + noise.next();
    night.runs++;
    if (run >= head) continue;
    night.claimedProgress += head - run;
    head = run;
    truth += effect;
    night.trueProgress -= effect;
    if (effect === 0) night.nullMerges++;
    if (effect > 0) night.regressionMerges++;
  }
  return night;
}

interface Summary {
  trueProgress: number;
  claimedProgress: number;
  nullMerges: number;
  regressionMerges: number;
  runs: number;
  /** Share of nights that merged a true regression. */
  harmfulNights: number;
  /** Share of nights that merged a change with no effect or a regression. */
  falseMergeNights: number;
  /** By true effect in sigmas: the share of such experiments merged, and their mean runs. */
  byEffect: Array<{ effect: number; merged: number; runs: number }>;
}

function summarize(nights: Night[]): Summary {
  const mean = (f: (n: Night) => number) => nights.reduce((a, n) => a + f(n), 0) / nights.length;
  return {
    trueProgress: mean((n) => n.trueProgress),
    claimedProgress: mean((n) => n.claimedProgress),
    nullMerges: mean((n) => n.nullMerges),
    regressionMerges: mean((n) => n.regressionMerges),
    runs: mean((n) => n.runs),
    harmfulNights: mean((n) => Number(n.regressionMerges > 0)),
    falseMergeNights: mean((n) => Number(n.nullMerges + n.regressionMerges > 0)),
    byEffect: [...new Set(nights.flatMap((n) => [...n.byEffect.keys()]))]
      .sort((a, b) => a - b)
      .map((effect) => {
        const tallies = nights.flatMap((n) => n.byEffect.get(effect) ?? []);
        const total = (f: (t: { experiments: number; merges: number; runs: number }) => number) => tallies.reduce((a, t) => a + f(t), 0);
        return { effect, merged: total((t) => t.merges) / total((t) => t.experiments), runs: total((t) => t.runs) / total((t) => t.experiments) };
      }),
  };
}

/** Issue 13's targets for the project's rule against greedy on the same nights. */
function targets(rule: Summary, greedy: Summary) {
  return {
    progress: rule.trueProgress >= 0.75 * greedy.trueProgress,
    nullMerges: rule.nullMerges <= 1,
    regressionMerges: rule.regressionMerges <= 0.05,
    claimed: Math.abs(rule.claimedProgress / rule.trueProgress - 1) <= 0.1,
    runs: rule.runs <= 1.6 * greedy.runs,
  };
}

const { values } = parseArgs({
  options: { nights: { type: "string", default: "60" }, seed: { type: "string", default: "1" }, concurrency: { type: "string", default: "1" } },
});
const nights = Number(values.nights);
const concurrency = Number(values.concurrency);
if (!(Number.isInteger(nights) && nights > 0)) throw new Error(`Expected --nights to be a positive integer, got \`${values.nights}\``);
if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new Error(`Expected --concurrency to be a positive integer, got \`${values.concurrency}\``);
const settings: PlanSettings = { ...DEFAULT_CONFIG.noise, concurrency };
const started = performance.now();
const rows: Array<{ mix: string; sigma: number; rule: Summary; greedy: Summary; targets: ReturnType<typeof targets> }> = [];
const f = (x: number, digits = 2) => x.toFixed(digits).padStart(7);

console.log(`bench:judge: ${nights} nights of ${EXPERIMENTS} experiments per mix and sigma, default noise config at concurrency ${concurrency}`);
console.log(`rule: ${JSON.stringify(settings)}`);
console.log("progress in sigmas per night; claimed = the deltas the merges report; harm = P(a night merges a true regression)");
console.log("mix    sigma   rule     true claimed  null-m   reg-m    runs   harm  any-false");
for (const [mixName, mix] of Object.entries(MIXES)) {
  for (const sigma of SIGMAS) {
    const random = new SeededRandom(Number(values.seed) * 1000 + Math.round(sigma * 1e5) + (mixName === "issue" ? 0 : 500));
    const noise = new Normal(random);
    const ruleNights: Night[] = [];
    const greedyNights: Night[] = [];
    for (let i = 0; i < nights; i++) {
      const effects = drawEffects(mix, random);
      ruleNights.push(await projectNight(effects, sigma, noise, settings));
      greedyNights.push(greedyNight(effects, noise));
    }
    const rule = summarize(ruleNights);
    const greedy = summarize(greedyNights);
    rows.push({ mix: mixName, sigma, rule, greedy, targets: targets(rule, greedy) });
    for (const [name, s] of [["judge", rule], ["greedy", greedy]] as const) {
      console.log(
        `${mixName.padEnd(6)} ${sigma.toExponential(0)}  ${name.padEnd(6)}${f(s.trueProgress)}${f(s.claimedProgress)}${f(s.nullMerges)}${f(s.regressionMerges, 3)}${f(s.runs, 1)}${f(s.harmfulNights)}${f(s.falseMergeNights)}`,
      );
    }
    const t = rows.at(-1)!;
    const effects = rule.byEffect.map((v) => `${v.effect > 0 ? "+" : ""}${v.effect}σ merged ${(100 * v.merged).toFixed(1)}% in ${v.runs.toFixed(2)} runs`);
    console.log(`${"".padEnd(15)}judge by true effect: ${effects.join("; ")}`);
    console.log(
      `${"".padEnd(15)}judge/greedy: progress ${(rule.trueProgress / greedy.trueProgress).toFixed(2)}x (target >= 0.75), runs ${(rule.runs / greedy.runs).toFixed(2)}x (<= 1.6), ` +
        `claimed/true ${(rule.claimedProgress / rule.trueProgress).toFixed(3)} (0.9..1.1); targets ${Object.values(t.targets).every(Boolean) ? "met" : `missed: ${Object.entries(t.targets).filter(([, ok]) => !ok).map(([k]) => k).join(", ")}`}`,
    );
  }
}
const seconds = (performance.now() - started) / 1000;
const issueRows = rows.filter((r) => r.mix === "issue");
console.log(`${seconds.toFixed(1)} s; issue mix targets ${issueRows.every((r) => Object.values(r.targets).every(Boolean)) ? "met at every sigma" : "missed at some sigma"}`);
console.log(JSON.stringify({ bench: "judge", nights, experiments: EXPERIMENTS, concurrency, seconds: Number(seconds.toFixed(1)), rows }));
