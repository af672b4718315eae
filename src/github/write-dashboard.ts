import { Ledger } from "../research/ledger.ts";
import { renderReport } from "../research/render-report.ts";
import { DASHBOARD_TITLE, renderDashboard } from "./dashboard.ts";
import { LABELS } from "./labels.ts";
import { statusOf } from "./octokit.ts";
import { snapshotOf } from "./repo-store.ts";
import { repoKey, type Session } from "./session.ts";

/** A dashboard change that only moves runs in flight waits this long, to save requests. */
const DASHBOARD_REFRESH_MS = 10 * 60_000;

/** The dashboard without its in-flight section: what must reach people at once. */
const settled = (body: string) => body.replace(/## In flight[\s\S]*?\n## /, "## ");

/** Writes each repository's dashboard issue, remembering when it last did. */
export class DashboardWriter {
  readonly #written = new Map<string, number>();

  /**
   * Writes the dashboard issue, creating it the first time. No request when nothing
   * changed, and a change to the runs in flight alone waits up to ten minutes. One a person
   * closed is reopened (pause the loop to stop it), one deleted is made again.
   */
  async write(s: Session, status: string | null, configErrors: string[]): Promise<void> {
    const { store, octokit, repo } = s;
    const report = renderReport({
      ledger: new Ledger(store.experiments(), s.state.epoch),
      paused: status,
      link: (e) => `#${store.numberOf(e.branch)}`,
    });
    const body = renderDashboard({ state: s.state, branch: s.branch, report, configErrors });
    const existing = store.dashboard();
    const key = repoKey(repo);
    const recent = s.now.getTime() - (this.#written.get(key) ?? -Infinity) < DASHBOARD_REFRESH_MS;
    const open = existing?.state === "open";
    if (existing && open && (existing.body === body || (recent && settled(existing.body) === settled(body)))) return;
    this.#written.set(key, s.now.getTime());
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
}
