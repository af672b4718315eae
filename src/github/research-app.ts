import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { Context, Probot } from "probot";
import { AgentError, type Agent } from "../research/agent.ts";
import { latestMeasurement, measurementFromResult, type Measurement } from "../research/experiment.ts";
import { gate, nightStart, runName } from "../research/gate.ts";
import { Ledger } from "../research/ledger.ts";
import { nextSeed } from "../research/plan.ts";
import { renderReport } from "../research/render-report.ts";
import { DEFAULT_CONFIG, parseResearchConfig, type ResearchConfig } from "../research/research-config.ts";
import { researchStep } from "../research/research-step.ts";
import { createAgent } from "./create-agent.ts";
import { checkedControls, DASHBOARD_TITLE, noteIgnored, readDashboard, renderDashboard, type DashboardState } from "./dashboard.ts";
import { foreignBecause, isExperimentWorkflow, type WorkflowRun } from "./experiment-run.ts";
import { GitHubForge } from "./github-forge.ts";
import { LABELS } from "./labels.ts";
import { statusOf, type Octokit, type RepoRef } from "./octokit.ts";
import { parseCommand, type Command } from "./parse-command.ts";
import { readResultArtifact } from "./read-result-artifact.ts";
import { RepoLock, type Repeat } from "./repo-lock.ts";
import { RepoStore, snapshotOf } from "./repo-store.ts";

/** The config file, in `.github/`. */
export const CONFIG_FILE = "autoresearch.yml";

/** A dashboard change that only moves runs in flight waits this long, to save requests. */
const DASHBOARD_REFRESH_MS = 10 * 60_000;

/** A webhook waits this long at first for a lock another app process holds; each wait doubles, up to a minute. */
const LOCK_RETRY_MS = 2_000;
const LOCK_RETRY_MAX_MS = 60_000;

/** The dashboard without its in-flight section: what must reach people at once. */
const settled = (body: string) => body.replace(/## In flight[\s\S]*?\n## /, "## ");

/** What the app can be given besides the Probot instance. */
export interface ResearchAppOptions {
  /** Builds a repository's agent from its config; by default from the config and the server's environment. */
  agent?: (config: ResearchConfig) => Agent;
  /** Project root to type-check proposals against (its `prepare.ts` and engine); null skips the type-check. */
  root?: string | null;
  /** The clock, for the research hours, budgets and the lock's times. */
  now?: () => Date;
  /** Waits between tries of a lock another process holds; by default a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** Renews a held lock's lease while a step runs; by default an interval timer. */
  repeat?: Repeat;
}

/** Where one event applies: a repository, its client and how to read its config. */
interface Target {
  octokit: Octokit;
  repo: RepoRef;
  /** Known from most payloads; read from the API otherwise. */
  defaultBranch?: string;
  readConfig: () => Promise<unknown>;
  /**
   * False for events the app's own runs cause (`workflow_run`): whatever people changed
   * since the last sync came with its own webhook (or the next sweep), so a warm cache is
   * current and the event costs no listing.
   */
  sync?: boolean;
  /** Look for finished runs whose webhooks were lost, as the first step after a restart or a failed step does. */
  sweep?: boolean;
}

/** One event's work on one repository, under that repository's lock. */
interface Session {
  octokit: Octokit;
  repo: RepoRef;
  config: ResearchConfig;
  branch: string;
  store: RepoStore;
  state: DashboardState;
  forge: GitHubForge;
  now: Date;
}

/**
 * The GitHub App: turns webhooks into steps of the research loop. Each repository is
 * handled one event at a time, in this process (a chain of promises) and across processes
 * (a {@link RepoLock} in GitHub); every handler rebuilds what it needs from GitHub (with an
 * incremental cache) and is idempotent, so redeliveries, restarts and replicas are safe.
 */
export class ResearchApp {
  readonly #probot: Probot;
  readonly #options: ResearchAppOptions;
  readonly #stores = new Map<string, RepoStore>();
  readonly #configs = new Map<string, { config: ResearchConfig; errors: string[] }>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #repoLocks = new Map<string, RepoLock>();
  /** This process, as the lock file names it. */
  readonly #holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  readonly #dashboardWrites = new Map<string, number>();
  #slug: Promise<string> | undefined;
  #stopping = false;

  constructor(probot: Probot, options: ResearchAppOptions = {}) {
    this.#probot = probot;
    this.#options = options;
    probot.on("workflow_run.completed", (context) => this.#onWorkflowRun(context));
    probot.on("issue_comment.created", (context) => this.#onComment(context));
    probot.on("issues.edited", (context) => this.#onDashboardEdit(context));
    probot.on(["issues.closed", "issues.deleted"], (context) => this.#onDashboardGone(context));
    probot.on("push", (context) => this.#onPush(context));
    probot.on(["pull_request.closed", "pull_request.reopened", "pull_request.labeled", "pull_request.unlabeled"], (context) =>
      this.#onPullRequest(context),
    );
    probot.on(["installation.created", "installation_repositories.added"], (context) => this.#onInstall(context));
  }

  /**
   * Sweeps every repository of every installation: reads results whose webhooks were lost
   * (the app was down) and starts runs that the hours or a restart held back. Run it at
   * start-up and every few minutes.
   */
  async tick(): Promise<void> {
    if (this.#stopping) return;
    const app = await this.#probot.auth();
    for (const installation of await app.paginate(app.rest.apps.listInstallations)) {
      const octokit = await this.#probot.auth(installation.id);
      for (const repository of await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation)) {
        const repo = { owner: repository.owner.login, repo: repository.name };
        const readConfig = async () => (await octokit.config.get({ ...repo, path: `.github/${CONFIG_FILE}` })).config;
        await this.#session({ octokit, repo, defaultBranch: repository.default_branch, readConfig, sweep: true }, undefined, false);
      }
    }
  }

  #target(context: Context<"workflow_run" | "issue_comment" | "issues" | "push" | "pull_request">): Target {
    return {
      octokit: context.octokit,
      repo: context.repo(),
      defaultBranch: context.payload.repository.default_branch,
      readConfig: () => context.config(CONFIG_FILE),
    };
  }

  async #onWorkflowRun(context: Context<"workflow_run.completed">): Promise<void> {
    const run = context.payload.workflow_run as WorkflowRun;
    if (!isExperimentWorkflow(run) || !run.head_branch?.startsWith("autoresearch/")) return;
    await this.#session({ ...this.#target(context), sync: false }, (s) => this.#measure(s, run));
  }

  async #onComment(context: Context<"issue_comment.created">): Promise<void> {
    const { comment, issue, sender } = context.payload;
    if (context.isBot || !issue.labels?.some((l) => l.name === LABELS.app)) return;
    const command = parseCommand(comment.body, await this.#appSlug());
    if (command === null) return;
    const target = this.#target(context);
    if (!(await this.#canWrite(target, sender.login))) return;
    await this.#session(target, async (s) => {
      if (!(await this.#apply(s, command, issue.number, comment.id, sender.login))) return;
      await s.octokit.rest.reactions.createForIssueComment({ ...s.repo, comment_id: comment.id, content: "+1" }).catch((error: unknown) => {
        // Locked: the command stands, only its acknowledgement cannot be shown there.
        if (statusOf(error) !== 403) throw error;
        const where = issue.number === s.store.dashboard()?.number ? "This dashboard" : `#${issue.number}`;
        noteIgnored(s.state, `${where} is locked, so commands there are applied without the 👍 that acknowledges them.`);
      });
    });
  }

  async #onDashboardEdit(context: Context<"issues.edited">): Promise<void> {
    const { issue, sender } = context.payload;
    if (context.isBot || !issue.labels?.some((l) => l.name === LABELS.dashboard)) return;
    const controls = checkedControls(issue.body);
    if (controls.length === 0) return;
    const target = this.#target(context);
    if (!(await this.#canWrite(target, sender.login))) return;
    // The epoch the person saw: a redelivered edit re-baselines once, not twice.
    const seen = readDashboard(issue.body).epoch;
    await this.#session(target, async (s) => {
      for (const control of controls) {
        if (control === "pause") s.state.paused = { by: sender.login, at: s.now.toISOString() };
        if (control === "resume") s.state.paused = null;
        if (control === "rebaseline") s.state.epoch = Math.max(s.state.epoch, seen + 1);
      }
    });
  }

  /** A person closed or deleted the dashboard: the step reopens it or makes a new one (pausing is how to stop the loop). */
  async #onDashboardGone(context: Context<"issues.closed" | "issues.deleted">): Promise<void> {
    const { issue } = context.payload;
    if (context.isBot || !issue.labels?.some((l) => l.name === LABELS.dashboard)) return;
    const target = this.#target(context);
    if (context.payload.action === "deleted") this.#stores.get(`${target.repo.owner}/${target.repo.repo}`)?.drop(issue.number);
    await this.#session(target);
  }

  async #onPush(context: Context<"push">): Promise<void> {
    const { ref, repository } = context.payload;
    if (context.isBot || ref.startsWith("refs/heads/autoresearch/")) return;
    const target = this.#target(context);
    const key = `${target.repo.owner}/${target.repo.repo}`;
    if (ref === `refs/heads/${repository.default_branch}`) this.#configs.delete(key);
    const { config } = await this.#config(target);
    if (ref === `refs/heads/${config.branch ?? repository.default_branch}`) await this.#session(target);
  }

  async #onPullRequest(context: Context<"pull_request">): Promise<void> {
    if (context.isBot || !context.payload.pull_request.head.ref.startsWith("autoresearch/")) return;
    await this.#session(this.#target(context));
  }

  async #onInstall(context: Context<"installation.created" | "installation_repositories.added">): Promise<void> {
    const payload = context.payload;
    const repositories = "repositories_added" in payload ? payload.repositories_added : (payload.repositories ?? []);
    for (const repository of repositories) {
      const [owner, repo] = repository.full_name.split("/") as [string, string];
      const readConfig = async () => (await context.octokit.config.get({ owner, repo, path: `.github/${CONFIG_FILE}` })).config;
      await this.#session({ octokit: context.octokit, repo: { owner, repo }, readConfig });
    }
  }

  /**
   * Runs `work` and then a research step for one repository, one event at a time per
   * repository: first in this process, then under the repository's lock in GitHub. While
   * another process holds that, a webhook's event waits for it (`wait`); a sweep skips the
   * repository, since the holder runs the same step and the next sweep comes anyway.
   */
  async #session(target: Target, work?: (s: Session) => Promise<void>, wait = true): Promise<void> {
    const key = `${target.repo.owner}/${target.repo.repo}`;
    if (this.#stopping) throw new Error(`autoresearch: the app is stopping, so it leaves this event on ${key} to the next process (which reads a finished run at its first sweep)`);
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(() => this.#locked(target, wait, (fresh) => this.#run(target, fresh, work)));
    this.#locks.set(key, current);
    try {
      await current;
    } finally {
      if (this.#locks.get(key) === current) this.#locks.delete(key);
    }
  }

  /**
   * Stops the app, as before the process exits (a redeploy): takes no more events, waits for
   * the steps in progress until `deadline`, and frees the locks this process kept after its
   * steps, so that the next process need not wait up to a lease for them. A step still running
   * at the deadline keeps its lock, whose lease then runs out.
   */
  async stop(deadline: Promise<unknown>): Promise<void> {
    this.#stopping = true;
    await Promise.race([Promise.allSettled(this.#locks.values()), deadline]);
    const freeing = Promise.all([...this.#repoLocks.values()].map((lock) => lock.free()));
    const freed = await Promise.race([freeing, deadline.then(() => null)]);
    const log = this.#probot.log;
    if (freed === null) log.warn("autoresearch: stopped at the deadline, some locks not freed: their leases run out");
    else log.info(`autoresearch: stopped, having freed ${freed.filter(Boolean).length} of ${freed.length} locks`);
  }

  /** Runs `run` holding the repository's lock in GitHub; `fresh` when no other process held it since this one. */
  async #locked(target: Target, wait: boolean, run: (fresh: boolean) => Promise<void>): Promise<void> {
    const key = `${target.repo.owner}/${target.repo.repo}`;
    const log = this.#probot.log;
    const lock = this.#repoLocks.get(key) ?? new RepoLock(target.repo, { holder: this.#holder, now: () => this.#options.now?.() ?? new Date(), repeat: this.#options.repeat });
    this.#repoLocks.set(key, lock);
    let delay = LOCK_RETRY_MS;
    let taken = await lock.acquire(target.octokit);
    while (!taken.acquired) {
      const by = taken.holder ? `${taken.holder.holder} (renewed at ${taken.holder.at.toISOString()})` : "another app process";
      if (!wait) {
        log.info(`autoresearch: ${key} is locked by ${by}; this sweep skips it`);
        return;
      }
      log.info(`autoresearch: ${key} is locked by ${by}; the event waits ${delay / 1000} s and tries again`);
      await (this.#options.sleep ?? sleep)(delay);
      delay = Math.min(2 * delay, LOCK_RETRY_MAX_MS);
      taken = await lock.acquire(target.octokit);
    }
    if (taken.tookOver) log.info(`autoresearch: took the lock of ${key} from ${taken.tookOver.holder}, whose lease ran out (renewed at ${taken.tookOver.at.toISOString()})`);
    try {
      await run(taken.fresh);
    } catch (error) {
      this.#stores.get(key)?.forget();
      throw error;
    } finally {
      if (!(await lock.release(target.octokit))) log.warn(`autoresearch: the lock of ${key} was no longer this process's to free`);
    }
  }

  async #run(target: Target, fresh: boolean, work?: (s: Session) => Promise<void>): Promise<void> {
    const { octokit, repo } = target;
    const key = `${repo.owner}/${repo.repo}`;
    // Another process worked here since this one: what it changed came with webhooks to that process.
    if (!fresh) this.#configs.delete(key);
    const { config, errors } = await this.#config(target);
    const defaultBranch = target.defaultBranch ?? (await octokit.rest.repos.get({ ...repo })).data.default_branch;
    const branch = config.branch ?? defaultBranch;
    const store = this.#stores.get(key) ?? new RepoStore(repo, `${await this.#appSlug()}[bot]`);
    this.#stores.set(key, store);
    // A new process, or one whose last step failed, may have missed runs or left them unread.
    const recovering = !store.synced;
    if (target.sync !== false || recovering || !fresh) await store.sync(octokit, branch);

    const now = this.#options.now?.() ?? new Date();
    const night = nightStart(now, config.hours);
    const state = readDashboard(store.dashboard()?.body);
    // Outboxes of steps that did not finish showing them; this step's number comes after theirs.
    const unfinished = store.outboxes().filter(({ outbox }) => outbox.step > state.published);
    const step = 1 + Math.max(state.published, ...unfinished.map(({ outbox }) => outbox.step));
    const note = (text: string) => noteIgnored(state, text);
    const forge = new GitHubForge({ octokit, repo, branch, config, store, epoch: state.epoch, run: runName(night, config.hours), now, step, note });
    const session: Session = { octokit, repo, config, branch, store, state, forge, now };
    for (const { experiment, outbox } of unfinished) await forge.recover(experiment, outbox);
    await work?.(session);
    if (target.sweep || recovering) await this.#sweep(session);
    forge.context.epoch = state.epoch;

    const paused = state.paused ? `paused by @${state.paused.by}` : errors.length > 0 ? "the configuration has errors" : null;
    const spent = () => (state.spent.night === night.toISOString() ? state.spent.tokens : 0);
    const report = await researchStep(forge, {
      agent: this.#agent(config),
      settings: { concurrency: config.concurrency, ...config.noise },
      gate: gate(config, store.experiments(), now, paused, spent()),
      root: this.#options.root ?? undefined,
    });
    await forge.flush();
    if (forge.outboxes > 0 || unfinished.length > 0) state.published = step;

    if (report.failedTokens > 0) state.spent = { night: night.toISOString(), tokens: spent() + report.failedTokens };
    const proposed = report.actions.filter((a) => a.type === "propose").length;
    if (proposed > report.failures.length) state.failures = [];
    else if (report.failures.length > 0) state.failures = report.failures.at(-1)!.errors;
    const status = gate(config, store.experiments(), now, paused, spent()).reason;
    await this.#writeDashboard(session, status, errors);
  }

  /**
   * Reads the result of a finished run of an experiment's current head, once, if the run is
   * provably the app's own (see {@link foreignBecause}); a run that touches an experiment and
   * is not is noted on the dashboard.
   */
  async #measure(s: Session, run: WorkflowRun): Promise<void> {
    if (run.conclusion === "cancelled") return;
    const branch = run.head_branch ?? "";
    let experiment = s.store.find(branch)?.experiment;
    if (!experiment || (experiment.head.sha !== run.head_sha && !experiment.measurements.some((m) => m.sha === run.head_sha))) {
      // Not what the cache expects: maybe changed elsewhere, so look again before deciding.
      await s.store.sync(s.octokit, s.branch);
      experiment = s.store.find(branch)?.experiment;
    }
    const why = foreignBecause(run);
    if (why !== null) {
      const touched = experiment ?? s.store.experiments().find((e) => e.head.sha === run.head_sha);
      if (touched) noteIgnored(s.state, `[Workflow run ${run.id}](${run.html_url}) of \`${touched.branch}\` (#${s.store.numberOf(touched.branch)}) was not read: ${why}.`);
      return;
    }
    if (!experiment || experiment.state !== "open" || experiment.head.sha !== run.head_sha) return;
    if (experiment.measurements.some((m) => m.sha === run.head_sha)) return;
    const artifact = await readResultArtifact(s.octokit, s.repo, run.id);
    const result = "result" in artifact ? artifact.result : null;
    const measurement: Measurement = result
      ? measurementFromResult(result, experiment.head, s.state.epoch)
      : {
          sha: experiment.head.sha, tree: experiment.head.tree, seed: experiment.seed, epoch: s.state.epoch, status: "crash", valBpb: null,
          peakVramMb: 0, trainingSeconds: 0, numSteps: 0, crashExcerpt: null,
          reason: `${"error" in artifact ? artifact.error : ""} (the workflow run ${run.html_url} ended: ${run.conclusion})`,
        };
    s.store.unsaved.set(experiment.branch, { ...experiment, measurements: [...experiment.measurements, measurement] });
    s.store.unchecked.set(experiment.branch, [...(s.store.unchecked.get(experiment.branch) ?? []), { measurement, result }]);
  }

  /** Finds finished runs of open experiments whose webhooks never arrived. */
  async #sweep(s: Session): Promise<void> {
    for (const experiment of s.store.experiments()) {
      if (experiment.state !== "open" || latestMeasurement(experiment) !== undefined) continue;
      const { data } = await s.octokit.rest.actions.listWorkflowRunsForRepo({ ...s.repo, head_sha: experiment.head.sha, status: "completed", per_page: 10 });
      // Each under the same rule as a webhook's; the first of the app's own is read, the rest are no-ops.
      for (const run of data.workflow_runs) if (isExperimentWorkflow(run)) await this.#measure(s, run as WorkflowRun);
    }
  }

  /** Applies a comment command; false when it does not apply to this issue or pull request. */
  async #apply(s: Session, command: Command, number: number, commentId: number, login: string): Promise<boolean> {
    if (command === "pause") s.state.paused = { by: login, at: s.now.toISOString() };
    if (command === "resume") s.state.paused = null;
    if (command === "pause" || command === "resume") return true;

    const experiment = s.store.experimentAt(number);
    if (!experiment || experiment.state !== "open") return false;
    if (experiment.commands.includes(commentId)) return true;
    const marked = { ...experiment, commands: [...experiment.commands, commentId] };
    if (command === "hold") {
      const { data } = await s.octokit.rest.issues.addLabels({ ...s.repo, issue_number: number, labels: [LABELS.hold] });
      s.store.record({ ...s.store.issues.get(number)!, labels: data.map((l) => l.name) });
    } else if (command === "discard") {
      if (latestMeasurement(experiment) === undefined) await this.#cancelRuns(s, experiment.head.sha);
      await s.forge.close(marked, "discarded", null);
    } else {
      if (latestMeasurement(experiment) === undefined) return false;
      await s.forge.rerun(marked, null, nextSeed(experiment.head.tree, await s.forge.load()));
    }
    return true;
  }

  async #cancelRuns(s: Session, sha: string): Promise<void> {
    const { data } = await s.octokit.rest.actions.listWorkflowRunsForRepo({ ...s.repo, head_sha: sha, per_page: 10 });
    for (const run of data.workflow_runs) {
      if (run.status !== "completed") await s.octokit.rest.actions.cancelWorkflowRun({ ...s.repo, run_id: run.id });
    }
  }

  /**
   * Writes the dashboard issue, creating it the first time. No request when nothing
   * changed, and a change to the runs in flight alone waits up to ten minutes. One a person
   * closed is reopened (pause the loop to stop it), one deleted is made again.
   */
  async #writeDashboard(s: Session, status: string | null, configErrors: string[]): Promise<void> {
    const { store, octokit, repo } = s;
    const report = renderReport({
      ledger: new Ledger(store.experiments(), s.state.epoch),
      paused: status,
      link: (e) => `#${store.numberOf(e.branch)}`,
    });
    const body = renderDashboard({ state: s.state, branch: s.branch, report, configErrors });
    const existing = store.dashboard();
    const key = `${repo.owner}/${repo.repo}`;
    const recent = s.now.getTime() - (this.#dashboardWrites.get(key) ?? -Infinity) < DASHBOARD_REFRESH_MS;
    const open = existing?.state === "open";
    if (existing && open && (existing.body === body || (recent && settled(existing.body) === settled(body)))) return;
    this.#dashboardWrites.set(key, s.now.getTime());
    const updated = existing
      ? await octokit.rest.issues.update({ ...repo, issue_number: existing.number, body, ...(open ? {} : { state: "open" as const }) }).catch((error: unknown) => {
          if (statusOf(error) !== 410 && statusOf(error) !== 404) throw error;
          store.drop(existing.number);
          return null;
        })
      : null;
    const { data } = updated ?? (await octokit.rest.issues.create({ ...repo, title: DASHBOARD_TITLE, body, labels: [LABELS.app, LABELS.dashboard] }));
    store.record(snapshotOf(data));
  }

  async #config(target: Target): Promise<{ config: ResearchConfig; errors: string[] }> {
    const key = `${target.repo.owner}/${target.repo.repo}`;
    let parsed = this.#configs.get(key);
    if (!parsed) {
      parsed = await target.readConfig().then(
        (raw) => parseResearchConfig(raw),
        (error: unknown) => ({ config: DEFAULT_CONFIG, errors: [(error as Error).message] }),
      );
      this.#configs.set(key, parsed);
    }
    return parsed;
  }

  #agent(config: ResearchConfig): Agent {
    try {
      return this.#options.agent?.(config) ?? createAgent(config, process.env);
    } catch (error) {
      // Judging and baselines go on; each proposal reports why there is no agent.
      const message = (error as Error).message;
      return { name: "unavailable", propose: async () => Promise.reject(new AgentError(message, 0)) };
    }
  }

  async #canWrite(target: Target, username: string): Promise<boolean> {
    const { data } = await target.octokit.rest.repos
      .getCollaboratorPermissionLevel({ ...target.repo, username })
      .catch(() => ({ data: { permission: "none" } }));
    return data.permission === "admin" || data.permission === "write";
  }

  #appSlug(): Promise<string> {
    this.#slug ??= this.#probot
      .auth()
      .then((octokit) => octokit.rest.apps.getAuthenticated())
      .then(({ data }) => data?.slug ?? "autoresearch");
    return this.#slug;
  }
}
