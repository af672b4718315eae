import type { Context, Probot } from "probot";
import { AgentError, type Agent } from "../research/agent.ts";
import { gate } from "../research/gate.ts";
import { DEFAULT_CONFIG, parseResearchConfig, type ResearchConfig } from "../research/research-config.ts";
import { researchStep } from "../research/research-step.ts";
import { acknowledge, applyCommand, applyControls, canWrite } from "./apply-command.ts";
import { createAgent } from "./create-agent.ts";
import { checkedControls, readDashboard } from "./dashboard.ts";
import { isExperimentWorkflow, type WorkflowRun } from "./experiment-run.ts";
import { LABELS } from "./labels.ts";
import { openSession } from "./open-session.ts";
import { parseCommand } from "./parse-command.ts";
import { readRun, sweepRuns } from "./read-runs.ts";
import type { Repeat } from "./repo-lock.ts";
import { RepoQueue } from "./repo-queue.ts";
import { RepoStore } from "./repo-store.ts";
import { repoKey, type Session, type Target } from "./session.ts";
import { DashboardWriter } from "./write-dashboard.ts";

/** The config file, in `.github/`. */
export const CONFIG_FILE = "autoresearch.yml";

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

/**
 * The GitHub App: turns webhooks into steps of the research loop. Each repository is
 * handled one event at a time ({@link RepoQueue}); every handler rebuilds what it needs from
 * GitHub (with an incremental cache) and is idempotent, so redeliveries, restarts and
 * replicas are safe.
 */
export class ResearchApp {
  readonly #probot: Probot;
  readonly #options: ResearchAppOptions;
  readonly #stores = new Map<string, RepoStore>();
  readonly #configs = new Map<string, { config: ResearchConfig; errors: string[] }>();
  readonly #queue: RepoQueue;
  readonly #dashboard = new DashboardWriter();
  #slug: Promise<string> | undefined;

  constructor(probot: Probot, options: ResearchAppOptions = {}) {
    this.#probot = probot;
    this.#options = options;
    this.#queue = new RepoQueue({
      log: () => probot.log,
      now: () => this.#now(),
      sleep: options.sleep,
      repeat: options.repeat,
      // A failed step may have written part of what it held: GitHub has the truth, which the next sync lists.
      failed: (key) => this.#stores.get(key)?.forget(),
    });
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
    if (this.#queue.stopping) return;
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
    await this.#session({ ...this.#target(context), sync: false }, (s) => readRun(s, run));
  }

  async #onComment(context: Context<"issue_comment.created">): Promise<void> {
    const { comment, issue, sender } = context.payload;
    if (context.isBot || !issue.labels?.some((l) => l.name === LABELS.app)) return;
    const command = parseCommand(comment.body, await this.#appSlug());
    if (command === null) return;
    const target = this.#target(context);
    if (!(await canWrite(target.octokit, target.repo, sender.login))) return;
    await this.#session(target, async (s) => {
      if (await applyCommand(s, command, issue.number, comment.id, sender.login)) await acknowledge(s, issue.number, comment.id);
    });
  }

  async #onDashboardEdit(context: Context<"issues.edited">): Promise<void> {
    const { issue, sender } = context.payload;
    if (context.isBot || !issue.labels?.some((l) => l.name === LABELS.dashboard)) return;
    const controls = checkedControls(issue.body);
    if (controls.length === 0) return;
    const target = this.#target(context);
    if (!(await canWrite(target.octokit, target.repo, sender.login))) return;
    const seen = readDashboard(issue.body).epoch;
    await this.#session(target, async (s) => applyControls(s, controls, sender.login, seen));
  }

  /** A person closed or deleted the dashboard: the step reopens it or makes a new one (pausing is how to stop the loop). */
  async #onDashboardGone(context: Context<"issues.closed" | "issues.deleted">): Promise<void> {
    const { issue } = context.payload;
    if (context.isBot || !issue.labels?.some((l) => l.name === LABELS.dashboard)) return;
    const target = this.#target(context);
    if (context.payload.action === "deleted") this.#stores.get(repoKey(target.repo))?.drop(issue.number);
    await this.#session(target);
  }

  async #onPush(context: Context<"push">): Promise<void> {
    const { ref, repository } = context.payload;
    if (context.isBot || ref.startsWith("refs/heads/autoresearch/")) return;
    const target = this.#target(context);
    if (ref === `refs/heads/${repository.default_branch}`) this.#configs.delete(repoKey(target.repo));
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

  /** Runs `work` and then a research step for one repository, one at a time (see {@link RepoQueue.run}). */
  async #session(target: Target, work?: (s: Session) => Promise<void>, wait = true): Promise<void> {
    await this.#queue.run(target, wait, (fresh) => this.#step(target, fresh, work));
  }

  /** Stops the app, as before the process exits (see {@link RepoQueue.stop}). */
  async stop(deadline: Promise<unknown>): Promise<void> {
    await this.#queue.stop(deadline);
  }

  /** One step: opens a session, does the event's `work`, reads lost runs, runs the research loop and shows the dashboard. */
  async #step(target: Target, fresh: boolean, work?: (s: Session) => Promise<void>): Promise<void> {
    const key = repoKey(target.repo);
    // Another process worked here since this one: what it changed came with webhooks to that process.
    if (!fresh) this.#configs.delete(key);
    const { config, errors } = await this.#config(target);
    const store = this.#stores.get(key) ?? new RepoStore(target.repo, `${await this.#appSlug()}[bot]`);
    this.#stores.set(key, store);
    const now = this.#now();
    const { session, night, step, recovered, recovering } = await openSession(target, config, store, now, fresh);
    const { state, forge } = session;
    await work?.(session);
    if (target.sweep || recovering) await sweepRuns(session);
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
    if (forge.outboxes > 0 || recovered) state.published = step;

    if (report.failedTokens > 0) state.spent = { night: night.toISOString(), tokens: spent() + report.failedTokens };
    const proposed = report.actions.filter((a) => a.type === "propose").length;
    if (proposed > report.failures.length) state.failures = [];
    else if (report.failures.length > 0) state.failures = report.failures.at(-1)!.errors;
    const status = gate(config, store.experiments(), now, paused, spent()).reason;
    await this.#dashboard.write(session, status, errors);
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  async #config(target: Target): Promise<{ config: ResearchConfig; errors: string[] }> {
    const key = repoKey(target.repo);
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

  #appSlug(): Promise<string> {
    this.#slug ??= this.#probot
      .auth()
      .then((octokit) => octokit.rest.apps.getAuthenticated())
      .then(({ data }) => data?.slug ?? "autoresearch");
    return this.#slug;
  }
}
