import { readMarker, writeMarker } from "./marker.ts";

/** The loop's own state, kept in the dashboard issue. */
export interface DashboardState {
  /** The noise epoch; a re-baseline starts the next one. */
  epoch: number;
  /** Who paused the loop, and when; null while it runs. */
  paused: { by: string; at: string } | null;
  /** LLM tokens spent by failed proposals in the night that starts at `night`. */
  spent: { night: string; tokens: number };
  /** Why the last proposal failed; empty once one succeeds. */
  failures: string[];
  /** The last step that showed all it wrote (see `Outbox`); a later step's outboxes may be unfinished. */
  published: number;
  /** What the app did not read or could not show (a run that is not its own, a locked issue), oldest first. */
  ignored: string[];
}

/** How many notes of what the app ignored the dashboard keeps. */
const IGNORED_KEPT = 10;

/** Adds a note of what the app ignored, once, keeping the latest few. */
export function noteIgnored(state: DashboardState, note: string): void {
  if (state.ignored.includes(note)) return;
  state.ignored = [...state.ignored, note].slice(-IGNORED_KEPT);
}

/** The checkboxes people tick in the dashboard. */
export const CONTROLS = {
  pause: "Pause the research loop",
  resume: "Resume the research loop",
  rebaseline: "Re-baseline: measure the noise and the head again",
} as const;

export type Control = keyof typeof CONTROLS;

export const DASHBOARD_TITLE = "Research Dashboard";

const EMPTY: DashboardState = { epoch: 0, paused: null, spent: { night: "", tokens: 0 }, failures: [], published: 0, ignored: [] };

/** The state in a dashboard body, or the initial state. */
export function readDashboard(body: string | null | undefined): DashboardState {
  const data = readMarker("dashboard", body) as Partial<DashboardState> | null;
  return { ...EMPTY, ...data };
}

/** The controls ticked in a dashboard body. */
export function checkedControls(body: string | null | undefined): Control[] {
  return (Object.keys(CONTROLS) as Control[]).filter((control) =>
    new RegExp(`^\\s*[-*] \\[[xX]\\] ${CONTROLS[control].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`, "m").test(body ?? ""),
  );
}

/** What the dashboard shows. */
export interface DashboardView {
  state: DashboardState;
  branch: string;
  /** The research report (status, in flight, leaderboard, counts, chart). */
  report: string;
  /** Problems in `.github/autoresearch.yml`. */
  configErrors: readonly string[];
}

/** The dashboard body: report, problems, controls (all unticked) and the hidden state. */
export function renderDashboard(view: DashboardView): string {
  const problems = [
    ...(view.configErrors.length
      ? ["## Configuration errors", "", "`.github/autoresearch.yml` has problems; the loop is paused until they are fixed:", "", ...view.configErrors.map((e) => `- ${e}`), ""]
      : []),
    ...(view.state.failures.length ? ["## Last proposal failed", "", ...view.state.failures.map((e) => `- ${e.replace(/\n/g, " ")}`), ""] : []),
  ];
  const ignored = view.state.ignored.length
    ? ["", "## Ignored", "", "What the app did not read or could not show, oldest first:", "", ...view.state.ignored.map((note) => `- ${note}`)]
    : [];
  return [
    `Autonomous research on \`${view.branch}\`. This issue is edited in place by the app.`,
    "",
    ...problems,
    view.report,
    ...ignored,
    "",
    "## Controls",
    "",
    ...Object.values(CONTROLS).map((label) => `- [ ] ${label}`),
    "",
    writeMarker("dashboard", view.state),
  ].join("\n");
}
