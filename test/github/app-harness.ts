import { generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Probot, ProbotOctokit } from "probot";
import { ResearchApp, type ResearchAppOptions } from "../../src/github/research-app.ts";
import type { Agent } from "../../src/research/agent.ts";
import { DEFAULT_SEED, seedFromCommitMessage, type Result } from "../../src/runner/result.ts";
import { FakeGitHub, type FakeIssue, type RunOrigin } from "./fake-github.ts";

const require = createRequire(import.meta.url);
type Example = { name: string; examples: Array<Record<string, any>> };
const examples = JSON.parse(readFileSync(require.resolve("@octokit/webhooks-examples/api.github.com/index.json"), "utf8")) as Example[];

/** A real payload from @octokit/webhooks-examples, deep-copied so a test can adapt it. */
export function example(name: string, action?: string): Record<string, any> {
  const found = examples.find((e) => e.name === name)!.examples.find((e) => action === undefined || e.action === action);
  if (!found) throw new Error(`No ${name}.${action} example`);
  return structuredClone(found);
}

let privateKey: string | undefined;
function appKey(): string {
  privateKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return privateKey;
}

/** What a scenario's runner reports for one run; the rest of `result.json` gets defaults. */
export type RunOutcome = Partial<Result> & { val_bpb: number | null };

/**
 * A scenario harness: the fake GitHub, a Probot instance running the app, and helpers
 * that play the events a night produces (finished runs, comments, edits, pushes, restarts).
 */
export class AppHarness {
  probot!: Probot;
  research!: ResearchApp;
  readonly fake: FakeGitHub;
  /** The app's clock; scenarios move it. */
  now = new Date("2025-01-15T22:30:00Z");
  /** How often the app waited for a lock another process held. */
  waits = 0;
  /** What happens elsewhere while the app waits for a lock (another process ends its step, say). */
  whileWaiting: () => Promise<unknown> = async () => undefined;
  #agent: (() => Agent) | undefined;
  #options: Omit<ResearchAppOptions, "agent" | "now">;
  readonly #ownsFake: boolean;

  /**
   * Without `agent`, the app builds its agent from the repository's config, as in production.
   * Given another harness's `fake` instead of files, it is a second app process on the same GitHub.
   * Waiting for a lock runs {@link whileWaiting}, then moves the app's clock on.
   */
  constructor(files: Record<string, string> | FakeGitHub, agent: (() => Agent) | undefined, options: Omit<ResearchAppOptions, "agent" | "now"> = {}) {
    this.#ownsFake = !(files instanceof FakeGitHub);
    this.fake = files instanceof FakeGitHub ? files : new FakeGitHub(files);
    this.#agent = agent;
    this.#options = options;
    if (this.#ownsFake) this.fake.install();
    this.restart();
  }

  /** A fresh Probot and app over the same GitHub: whatever the old process held in memory is gone. */
  restart(): void {
    this.probot = new Probot({
      appId: 1,
      privateKey: appKey(),
      logLevel: "fatal",
      // Throttling and retry are on in production; here a 4xx must surface at once.
      Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({ ...options, throttle: { enabled: false }, retry: { enabled: false } })),
    });
    const sleep = async (ms: number) => {
      this.waits++;
      await this.whileWaiting();
      this.now = new Date(this.now.getTime() + ms);
    };
    this.research = new ResearchApp(this.probot, { ...this.#options, sleep, agent: this.#agent, now: () => this.now });
  }

  close(): void {
    if (this.#ownsFake) this.fake.uninstall();
  }

  async deliver(name: string, payload: Record<string, any>): Promise<void> {
    payload.repository = { ...payload.repository, ...this.fake.repositoryPayload(), owner: { ...payload.repository?.owner, login: this.fake.owner } };
    payload.installation = { id: this.fake.installationId };
    await this.probot.receive({ id: randomUUID(), name, payload } as never);
  }

  /** The GPU runner finishes the run of a pull request's head and GitHub delivers `workflow_run.completed`. */
  async finish(number: number, outcome: RunOutcome | null, options: { conclusion?: string; deliver?: boolean; origin?: RunOrigin } = {}) {
    const head = this.fake.headOf(number);
    const result = outcome === null ? null : resultJson(head.sha, seedFromCommitMessage(head.message), outcome);
    const run = this.fake.finishRun(number, result, options.conclusion ?? (outcome?.val_bpb === null ? "failure" : "success"), options.origin);
    const payload = example("workflow_run", "completed");
    Object.assign(payload.workflow_run, this.fake.runPayload(run), {
      pull_requests: [{ number, head: { ref: run.headBranch, sha: run.headSha }, base: { ref: "main" } }],
    });
    if (options.deliver !== false) await this.deliver("workflow_run", payload);
    return payload;
  }

  /** Someone comments on an issue or pull request. */
  async comment(number: number, body: string, user: string): Promise<number> {
    const issue = this.fake.issues.get(number)!;
    const comment = this.fake.comment(number, body, user);
    const payload = example("issue_comment", "created");
    Object.assign(payload.issue, {
      number, title: issue.title, body: issue.body, state: issue.state, labels: issue.labels.map((name) => ({ name })),
      ...(issue.pull ? { pull_request: { url: "" } } : {}),
    });
    Object.assign(payload.comment, { id: comment.id, body, user: { ...payload.comment.user, login: user, type: "User" } });
    payload.sender = { ...payload.sender, login: user, type: "User" };
    await this.deliver("issue_comment", payload);
    return comment.id;
  }

  /** Someone edits the dashboard (ticks a checkbox). */
  async editDashboard(edit: (body: string) => string, user: string): Promise<Record<string, any>> {
    const dashboard = this.dashboard();
    const issue = this.fake.editIssue(dashboard.number, edit(dashboard.body));
    const payload = example("issues", "edited");
    Object.assign(payload.issue, { number: issue.number, title: issue.title, body: issue.body, labels: issue.labels.map((name) => ({ name })) });
    payload.sender = { ...payload.sender, login: user, type: "User" };
    await this.deliver("issues", payload);
    return payload;
  }

  /** Someone pushes to a branch (merging their own pull request, say); with `onto`, a force-push of a commit on top of it. */
  async push(branch: string, changes: Record<string, string>, user: string, onto?: string): Promise<void> {
    const sha = onto === undefined ? this.fake.push(branch, changes, "Edit by a person") : this.fake.forcePush(branch, onto, changes, "Force-pushed by a person");
    const payload = example("push");
    Object.assign(payload, { ref: `refs/heads/${branch}`, after: sha });
    payload.sender = { ...payload.sender, login: user, type: "User" };
    await this.deliver("push", payload);
  }

  /** Someone closes an issue. */
  async closeIssue(number: number, user: string): Promise<void> {
    const issue = this.fake.setIssue(number, { state: "closed" });
    // The examples have no `closed` action; a `reopened` one is the same shape.
    const payload = example("issues", "reopened");
    payload.action = "closed";
    Object.assign(payload.issue, { number, title: issue.title, body: issue.body, state: "closed", labels: issue.labels.map((name) => ({ name })) });
    payload.sender = { ...payload.sender, login: user, type: "User" };
    await this.deliver("issues", payload);
  }

  dashboard(): FakeIssue {
    return [...this.fake.issues.values()].find((i) => i.labels.includes("autoresearch:dashboard"))!;
  }

  /** Open pull requests of the app, oldest first. */
  openPulls(): FakeIssue[] {
    return [...this.fake.issues.values()].filter((i) => i.pull && i.state === "open");
  }

  pulls(): FakeIssue[] {
    return [...this.fake.issues.values()].filter((i) => i.pull);
  }
}

/** A full `result.json` for a run of `sha`. */
export function resultJson(sha: string, seed: number, outcome: RunOutcome): Result {
  const ok = outcome.val_bpb !== null;
  return {
    version: 1,
    status: ok ? "ok" : "crash",
    reported_val_bpb: outcome.val_bpb,
    training_seconds: 300.1,
    total_seconds: 325.9,
    peak_vram_mb: 45060.2,
    mfu_percent: ok ? 39.8 : null,
    total_tokens_M: 499.6,
    num_steps: 953,
    num_params_M: 50.3,
    depth: 8,
    profile: "h100",
    seed: seed ?? DEFAULT_SEED,
    base_sha: "0".repeat(40),
    head_sha: sha,
    crash_excerpt: ok ? null : "RuntimeError: CUDA out of memory",
    reason: null,
    loss_curve: [
      [0, 9.01],
      [500, 3.4],
      [953, 3.1],
    ],
    ...outcome,
  };
}
