import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG, parseResearchConfig } from "../../src/research/research-config.ts";

describe("parseResearchConfig", () => {
  it("returns the defaults for a missing or empty file", () => {
    expect(parseResearchConfig(null)).toEqual({ config: DEFAULT_CONFIG, errors: [] });
    expect(parseResearchConfig({})).toEqual({ config: DEFAULT_CONFIG, errors: [] });
  });

  it("reads every key", () => {
    const { config, errors } = parseResearchConfig({
      branch: "research",
      concurrency: 3,
      noise: { "baseline-runs": 3, "max-runs": 2, alpha: 0.05, futility: 0.5, "confirm-runs": 1, "min-sigma": 0.001 },
      agent: { provider: "offline", "base-url": "http://localhost:11434/v1", model: "qwen2.5-coder", temperature: 0.2, seed: 5, timeout: 60, retries: 1 },
      budget: { "experiments-per-night": 50, "tokens-per-night": 100000 },
      hours: { start: 22, end: 6, timezone: "Europe/Paris" },
      labels: ["research"],
      "keep-branches": true,
    });
    expect(errors).toEqual([]);
    expect(config).toEqual({
      branch: "research",
      concurrency: 3,
      noise: { baselineRuns: 3, maxRuns: 2, alpha: 0.05, futility: 0.5, confirmRuns: 1, minSigma: 0.001 },
      agent: { provider: "offline", baseUrl: "http://localhost:11434/v1", model: "qwen2.5-coder", temperature: 0.2, seed: 5, timeout: 60, retries: 1 },
      budget: { experimentsPerNight: 50, tokensPerNight: 100000 },
      hours: { start: 22, end: 6, timezone: "Europe/Paris" },
      labels: ["research"],
      keepBranches: true,
    });
  });

  it("reports every bad value, keeps the defaults for them, and keeps the good ones", () => {
    const { config, errors } = parseResearchConfig({
      concurrency: 0,
      branch: "research",
      noise: { alpha: "two", "baseline-runs": 1 },
      agent: { provider: "anthropic", "base-url": "ftp://x" },
      hours: { start: 25, timezone: "Mars/Olympus" },
      keep_branches: true,
    });
    expect(errors).toEqual([
      "Expected `concurrency` to be an integer from 1 to 64, got `0`",
      'Expected `noise.alpha` to be a probability from 1e-6 to 0.5, got `"two"`',
      "Expected `noise.baseline-runs` to be an integer from 2 to 20, got `1`",
      'Expected `agent.provider` to be "openai" or "offline", got `"anthropic"`',
      'Expected `agent.base-url` to be an http(s) URL, got `"ftp://x"`',
      "Expected `hours.start` to be an hour from 0 to 23, got `25`",
      'Expected `hours.timezone` to be an IANA time zone such as Europe/Paris, got `"Mars/Olympus"`',
      expect.stringMatching(/^Expected only known keys in \.github\/autoresearch\.yml, got `keep_branches` \(known: `branch`, `concurrency`/),
    ]);
    expect(config.branch).toBe("research");
    expect(config.concurrency).toBe(1);
    expect(config.hours).toBeNull();
  });

  it("refuses a file that is not a mapping, and empty hours", () => {
    expect(parseResearchConfig(["a"]).errors).toEqual(['Expected .github/autoresearch.yml to hold a mapping of keys, got `["a"]`']);
    expect(parseResearchConfig({ hours: { start: 5, end: 5 } }).errors).toEqual(["Expected `hours.start` and `hours.end` to differ, got `5` for both"]);
  });
});
