/**
 * GitHub App benchmark: plays a night of experiments (offline agent, scripted results)
 * against the fake GitHub of the tests and counts the REST requests the app makes, per
 * experiment and per operation. Target: at most 25 per experiment. With `--processes 2` the
 * webhooks alternate between two app processes (replicas), whose lock in GitHub then costs
 * a second request per step.
 * Run: npm run bench:app [-- --experiments 100 --concurrency 3 --processes 1]
 */
import { LOCK_BRANCH } from "../src/github/repo-lock.ts";
import { MutationAgent } from "../src/research/mutation-agent.ts";
import { AppHarness } from "../test/github/app-harness.ts";
import { runUntilIdle } from "../test/github/scripted-runner.ts";
import { FIXTURE_ROOT, researchFiles } from "../test/research/fixtures.ts";

const TARGET = 25;
/** The primary rate limit of a GitHub App installation, per hour, at its lowest. */
const RATE_LIMIT_PER_HOUR = 5000;

const flag = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const experiments = flag("--experiments", 100);
const processes = flag("--processes", 1);
const concurrency = flag("--concurrency", 3);
const config = `concurrency: ${concurrency}\nbudget:\n  experiments-per-night: ${experiments}\n`;
const agent = () => new MutationAgent(2);
const h = new AppHarness({ ...researchFiles(), ".github/autoresearch.yml": config }, agent, { root: FIXTURE_ROOT });
const apps = [h, ...Array.from({ length: processes - 1 }, () => new AppHarness(h.fake, agent, { root: FIXTURE_ROOT }))];

const started = performance.now();
await h.research.tick();
await runUntilIdle(h, undefined, 20 * experiments, apps);
const seconds = (performance.now() - started) / 1000;
for (const app of apps) app.close();

if (h.fake.invalid.length > 0) throw new Error(`The app made ${h.fake.invalid.length} requests GitHub would reject: ${h.fake.invalid[0]!.errors[0]}`);
const pulls = h.pulls();
const made = pulls.filter((p) => !p.labels.includes("autoresearch:baseline")).length;
const runs = h.fake.workflowRuns.size;
const requests = h.fake.requests.length;
const lockRequests = h.fake.requests.filter((r) => r.path.includes(encodeURIComponent(LOCK_BRANCH)) || /contents\/lock\b/.test(r.path)).length;
const byOperation = new Map<string, number>();
for (const r of h.fake.requests) byOperation.set(r.operationId!, (byOperation.get(r.operationId!) ?? 0) + 1);

const rows: Array<[string, string]> = [
  ["experiments (pull requests, baselines apart)", String(made)],
  ["baseline runs", String(pulls.length - made)],
  ["runs measured (re-runs included)", String(runs)],
  ["merged", String(pulls.filter((p) => p.pull!.merged).length)],
  ["REST requests", String(requests)],
  ["REST requests per experiment", (requests / made).toFixed(1)],
  ["  of which the lock (autoresearch/lock)", (lockRequests / made).toFixed(1)],
  ["REST requests per run", (requests / runs).toFixed(1)],
  [`share of one hour's ${RATE_LIMIT_PER_HOUR} requests`, `${((100 * requests) / RATE_LIMIT_PER_HOUR).toFixed(0)}%`],
  ["app time per webhook (ms, fake GitHub)", ((1000 * seconds) / runs).toFixed(1)],
];
const width = Math.max(...rows.map(([k]) => k.length), ...[...byOperation.keys()].map((k) => k.length));
console.log(`A night of ${made} experiments at concurrency ${concurrency} (offline agent, scripted results), ${processes} app process(es)\n`);
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v.padStart(8)}`);
console.log(`\n${"operation".padEnd(width)}  ${"requests".padStart(8)}  per experiment`);
for (const [operation, count] of [...byOperation].sort((a, b) => b[1] - a[1])) {
  console.log(`${operation.padEnd(width)}  ${String(count).padStart(8)}  ${(count / made).toFixed(2).padStart(14)}`);
}
console.log(
  JSON.stringify({
    bench: "app",
    experiments: made,
    runs,
    requests,
    concurrency,
    processes,
    requests_per_experiment: Number((requests / made).toFixed(2)),
    lock_requests_per_experiment: Number((lockRequests / made).toFixed(2)),
    requests_per_run: Number((requests / runs).toFixed(2)),
    target_per_experiment: TARGET,
    ratio_vs_target: Number((requests / made / TARGET).toFixed(3)),
    ms_per_webhook: Number(((1000 * seconds) / runs).toFixed(1)),
  }),
);
