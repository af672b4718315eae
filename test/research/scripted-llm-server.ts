import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One scripted answer: a reply text in a chat completion, or a raw status with headers and body. */
export interface ScriptStep {
  reply?: string;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Wait this long before answering (to provoke client timeouts). */
  delay?: number;
  /** total_tokens reported in `usage`. */
  tokens?: number;
}

/** A request the server received. */
export interface ScriptedRequest {
  url: string;
  headers: IncomingHttpHeaders;
  body: { model: string; temperature?: number; messages: Array<{ role: string; content: string }> };
}

/**
 * An OpenAI-compatible chat server on loopback that answers from a script, one step per
 * request, and records what it was asked. Past the end of the script it answers 500.
 */
export async function startScriptedLlm(script: ScriptStep[]) {
  const requests: ScriptedRequest[] = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      requests.push({ url: req.url ?? "", headers: req.headers, body: JSON.parse(raw || "{}") });
      const step = script.shift() ?? { status: 500, body: { error: { message: "script exhausted" } } };
      const answer = () => {
        if (res.destroyed) return;
        const status = step.status ?? 200;
        const body =
          step.reply !== undefined
            ? {
                id: `chatcmpl-${requests.length}`,
                object: "chat.completion",
                created: 1_700_000_000,
                model: requests.at(-1)!.body.model,
                choices: [{ index: 0, message: { role: "assistant", content: step.reply }, finish_reason: "stop" }],
                usage: { prompt_tokens: (step.tokens ?? 100) - 10, completion_tokens: 10, total_tokens: step.tokens ?? 100 },
              }
            : step.body;
        res.writeHead(status, { "content-type": "application/json", ...step.headers });
        res.end(JSON.stringify(body ?? {}));
      };
      if (step.delay) setTimeout(answer, step.delay).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
