import OpenAI from "openai";
import { AgentError, type Agent, type AgentReply, type AgentTask } from "./agent.ts";
import { buildPrompt, type ChatMessage } from "./build-prompt.ts";
import { parseReply, ReplyFormatError } from "./parse-reply.ts";
import { formatPromptSize, measurePrompt, PROMPT_TOKENIZER } from "./prompt-size.ts";

/** How to reach an OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp...). */
export interface OpenAIAgentOptions {
  baseUrl: string;
  /** Keyless local servers accept any string. */
  apiKey: string;
  model: string;
  temperature?: number;
  /** Per request, in milliseconds. */
  timeout?: number;
  /** Retries after a timeout, a rate limit, a server error or a malformed reply. */
  retries?: number;
  /** train.ts consts the profile sets itself; the prompt asks the model to leave them alone. */
  fixed?: readonly string[];
  /** First backoff in milliseconds; it doubles on each retry unless the server sends `retry-after`. */
  backoff?: number;
  /** Longest wait between tries, in milliseconds. */
  maxDelay?: number;
  /** Waits between tries; tests replace it to run instantly. */
  sleep?: (ms: number) => Promise<void>;
  /** Receives one line per request: the prompt's size as sent and as the endpoint counted it. */
  log?: (line: string) => void;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The server's `retry-after-ms` or `retry-after` (seconds or an HTTP date), in milliseconds. */
function retryAfter(headers: Headers | undefined): number | null {
  const ms = Number(headers?.get("retry-after-ms"));
  if (ms > 0) return ms;
  const value = headers?.get("retry-after");
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** Whether an error is worth another try: timeouts, connection failures, 408, 409, 429 and 5xx. */
function retryable(error: unknown): boolean {
  if (error instanceof ReplyFormatError || error instanceof OpenAI.APIConnectionError) return true;
  if (!(error instanceof OpenAI.APIError)) return false;
  const status = error.status ?? 0;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The LLM agent: builds the prompt from `program.md`, the repository files and the ledger,
 * asks any OpenAI-compatible chat endpoint, and parses the reply. Failures that may pass
 * (timeouts, 429 with `retry-after`, 5xx, malformed replies) are retried with backoff; a
 * malformed reply is shown to the model with the parse error on the next try.
 */
export class OpenAIAgent implements Agent {
  readonly name: string;
  readonly #client: OpenAI;
  readonly #options: Required<Omit<OpenAIAgentOptions, "apiKey">>;

  constructor(options: OpenAIAgentOptions) {
    this.name = `openai:${options.model}`;
    this.#options = { temperature: 0.7, timeout: 300_000, retries: 3, backoff: 2000, maxDelay: 120_000, sleep: wait, fixed: [], log: console.log, ...options };
    this.#client = new OpenAI({ baseURL: options.baseUrl, apiKey: options.apiKey, timeout: this.#options.timeout, maxRetries: 0 });
  }

  async propose(task: AgentTask): Promise<AgentReply> {
    const { model, temperature, retries, backoff, maxDelay, sleep, baseUrl, log } = this.#options;
    const messages: ChatMessage[] = buildPrompt(task, this.#options.fixed);
    let tokens = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const size = formatPromptSize(measurePrompt(messages));
        const completion = await this.#client.chat.completions.create({ model, temperature, messages });
        tokens += completion.usage?.total_tokens ?? 0;
        const counted = completion.usage ? `; ${this.name} counted ${completion.usage.prompt_tokens.toLocaleString("en-US")}` : "";
        log(`${this.name}: prompt of ${messages.length} messages, ${size} (${PROMPT_TOKENIZER})${counted}`);
        const text = completion.choices[0]?.message?.content ?? "";
        try {
          return { proposal: parseReply(text), text, tokens };
        } catch (error) {
          if (error instanceof ReplyFormatError && attempt < retries) {
            messages.push(
              { role: "assistant", content: text },
              { role: "user", content: `Your reply could not be read: ${error.message}. Reply again in exactly the format of program.md.` },
            );
          }
          throw error;
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!retryable(error) || attempt >= retries) {
          throw new AgentError(`The LLM ${model} at ${baseUrl} failed after ${attempt + 1} tries: ${message}`, tokens);
        }
        const hinted = error instanceof OpenAI.APIError ? retryAfter(error.headers) : null;
        await sleep(Math.min(maxDelay, hinted ?? backoff * 2 ** attempt));
      }
    }
  }
}
