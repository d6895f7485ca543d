import { test, expect, type APIRequestContext } from "@playwright/test";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";

// A team's own code on the official `openai` and `@anthropic-ai/sdk` clients works against the
// local AI twins unchanged but for the base URL and key: whole and streamed answers with the
// usage the twins' token rule predicts, the twins' failure switches as each client's typed
// errors, and a stream the client aborts recorded by the twin as cancelled. The twins run on
// the local stand-in port (LOCAL_SUPABASE_PORT, 54321 unless set); their keys and rules are in
// server/src/local/ai_twin/mod.rs.
const standIns = process.env.KILAT_STANDINS_URL ?? "http://127.0.0.1:54321";
const openaiTwin = `${standIns}/openai/v1`;
const anthropicTwin = `${standIns}/anthropic`;

// No retries: a failure switch set for one request must be seen by the test, not retried away.
const openai = new OpenAI({ baseURL: openaiTwin, apiKey: "sk-kilat-local-twin", maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: anthropicTwin, apiKey: "sk-ant-kilat-local-twin", maxRetries: 0 });

/** The twin's words: runs of non-whitespace. */
const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The twin's prompt tokens: 3 per message plus its words; Anthropic's `system`, its words alone. */
const promptTokens = (messages: string[], system = "") =>
  messages.reduce((total, message) => total + 3 + words(message), words(system));

/** A model name of the test's own: the twins accept any, and switches and records are kept per
 * model, so tests running in parallel do not see each other's. */
const modelFor = (name: string) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

const kilatAnswer = (provider: string) => `Hello from the local ${provider} twin. You said: What is Kilat?`;

type Served = {
  id: string;
  provider: "openai" | "anthropic";
  model: string;
  stream: boolean;
  prompt_tokens: number;
  completion_tokens: number;
  outcome: string;
  cancelled: boolean;
};

async function served(request: APIRequestContext, twin: string, model: string): Promise<Served[]> {
  const response = await request.get(`${twin}/_twin/requests`, { params: { model } });
  expect(response.ok()).toBeTruthy();
  return response.json();
}

async function setFailure(request: APIRequestContext, twin: string, switchBody: Record<string, unknown>) {
  const response = await request.post(`${twin}/_twin/failure`, { data: switchBody });
  expect(response.ok(), await response.text()).toBeTruthy();
}

test("the official openai client gets whole and streamed answers with the predicted usage", async ({ request }) => {
  const model = modelFor("openai-chat");
  const messages = [
    { role: "system" as const, content: "Be brief." },
    { role: "user" as const, content: "What is Kilat?" },
  ];
  const expectedPrompt = promptTokens(messages.map((m) => m.content));

  const { data: completion, request_id } = await openai.chat.completions.create({ model, messages }).withResponse();
  expect(request_id).toMatch(/^req_/);
  expect(completion.object).toBe("chat.completion");
  expect(completion.choices[0].message).toMatchObject({ role: "assistant", content: kilatAnswer("OpenAI") });
  expect(completion.choices[0].finish_reason).toBe("stop");
  expect(completion.usage).toMatchObject({
    prompt_tokens: expectedPrompt,
    completion_tokens: words(kilatAnswer("OpenAI")),
    total_tokens: expectedPrompt + words(kilatAnswer("OpenAI")),
  });

  const stream = await openai.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let deltas = 0;
  let finishReason: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) {
      text += choice.delta.content;
      deltas += 1;
    }
    finishReason = choice?.finish_reason ?? finishReason;
    usage = chunk.usage ?? usage;
  }
  expect(text).toBe(kilatAnswer("OpenAI"));
  expect(deltas).toBe(words(text));
  expect(finishReason).toBe("stop");
  expect(usage).toMatchObject({ prompt_tokens: expectedPrompt, completion_tokens: words(text) });

  // max_tokens cuts the answer: `length`, and exactly that many tokens.
  const cut = await openai.chat.completions.create({ model, messages, max_completion_tokens: 4 });
  expect(cut.choices[0].message.content).toBe("Hello from the local");
  expect(cut.choices[0].finish_reason).toBe("length");
  expect(cut.usage?.completion_tokens).toBe(4);

  const records = await served(request, openaiTwin, model);
  expect(records.map((r) => [r.stream, r.outcome, r.prompt_tokens, r.completion_tokens])).toEqual([
    [false, "stop", expectedPrompt, 11],
    [true, "stop", expectedPrompt, 11],
    [false, "length", expectedPrompt, 4],
  ]);
});

test("the official Anthropic client gets whole and streamed answers with the predicted usage", async ({ request }) => {
  const model = modelFor("anthropic-chat");
  const system = "Be brief.";
  const messages = [{ role: "user" as const, content: "What is Kilat?" }];
  const expectedInput = promptTokens(["What is Kilat?"], system);

  const message = await anthropic.messages.create({ model, max_tokens: 100, system, messages });
  expect(message.type).toBe("message");
  expect(message.content).toEqual([{ type: "text", text: kilatAnswer("Anthropic") }]);
  expect(message.stop_reason).toBe("end_turn");
  expect(message.usage).toMatchObject({ input_tokens: expectedInput, output_tokens: 11 });

  // The SDK's stream helper rebuilds the message from the events.
  const stream = anthropic.messages.stream({ model, max_tokens: 100, system, messages });
  let text = "";
  let deltas = 0;
  stream.on("text", (delta) => {
    text += delta;
    deltas += 1;
  });
  const streamed = await stream.finalMessage();
  expect(text).toBe(kilatAnswer("Anthropic"));
  expect(deltas).toBe(words(text));
  expect(streamed.content).toMatchObject([{ type: "text", text }]);
  expect(streamed.stop_reason).toBe("end_turn");
  expect(streamed.usage).toMatchObject({ input_tokens: expectedInput, output_tokens: words(text) });

  // Raw events, cut by max_tokens.
  const events = await anthropic.messages.create({ model, max_tokens: 4, system, messages, stream: true });
  const types: string[] = [];
  let outputTokens = 0;
  let stopReason: string | null = null;
  for await (const event of events) {
    types.push(event.type);
    if (event.type === "message_delta") {
      outputTokens = event.usage.output_tokens;
      stopReason = event.delta.stop_reason;
    }
  }
  expect(types).toEqual([
    "message_start",
    "content_block_start",
    ...Array(4).fill("content_block_delta"),
    "content_block_stop",
    "message_delta",
    "message_stop",
  ]);
  expect([stopReason, outputTokens]).toEqual(["max_tokens", 4]);

  const records = await served(request, anthropicTwin, model);
  expect(records.map((r) => [r.provider, r.stream, r.outcome, r.prompt_tokens, r.completion_tokens])).toEqual([
    ["anthropic", false, "stop", expectedInput, 11],
    ["anthropic", true, "stop", expectedInput, 11],
    ["anthropic", true, "length", expectedInput, 4],
  ]);
});

test("the twins' failure switches surface as each client's typed errors", async ({ request }) => {
  const model = modelFor("failures");
  const ask = { model, messages: [{ role: "user" as const, content: "Hi" }] };

  await setFailure(request, openaiTwin, { kind: "rate_limited", model, times: 1, retry_after_secs: 3 });
  const limited = await openai.chat.completions.create(ask).catch((error: unknown) => error);
  expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
  const rateLimit = limited as InstanceType<typeof OpenAI.RateLimitError>;
  expect(rateLimit.status).toBe(429);
  expect(rateLimit.code).toBe("rate_limit_exceeded");
  expect(rateLimit.headers?.get("retry-after")).toBe("3");
  // The switch was for one request.
  await expect(openai.chat.completions.create(ask)).resolves.toMatchObject({ object: "chat.completion" });

  await setFailure(request, openaiTwin, { kind: "error_mid_stream", model, times: 1, after_tokens: 2 });
  const failing = await openai.chat.completions.create({ ...ask, stream: true });
  let received = "";
  const midStream = await (async () => {
    for await (const chunk of failing) received += chunk.choices[0]?.delta.content ?? "";
  })().catch((error: unknown) => error);
  expect(midStream).toBeInstanceOf(OpenAI.APIError);
  expect((midStream as InstanceType<typeof OpenAI.APIError>).message).toContain("The server had an error");
  expect(received).toBe("Hello from");

  await setFailure(request, anthropicTwin, { kind: "overloaded", model, times: 1 });
  const overloaded = await anthropic.messages.create({ ...ask, max_tokens: 10 }).catch((error: unknown) => error);
  expect(overloaded).toBeInstanceOf(Anthropic.OverloadedError);
  const apiError = overloaded as InstanceType<typeof Anthropic.OverloadedError>;
  expect(apiError.status).toBe(529);
  expect(apiError.type).toBe("overloaded_error");
  expect(apiError.requestID).toMatch(/^req_/);

  const records = [...(await served(request, openaiTwin, model)), ...(await served(request, anthropicTwin, model))];
  expect(records.map((r) => [r.provider, r.outcome, r.completion_tokens])).toEqual([
    ["openai", "rate_limited", 0],
    ["openai", "stop", words("Hello from the local OpenAI twin. You said: Hi")],
    ["openai", "error_mid_stream", 2],
    ["anthropic", "overloaded", 0],
  ]);
});

test("a stream the client aborts is recorded by the twin as cancelled", async ({ request }) => {
  const model = modelFor("aborted");
  // `long-answer` goes on until max_tokens: seconds at the twin's token delay, unless aborted.
  const stream = await openai.chat.completions.create({
    model,
    messages: [{ role: "user", content: "Tell me a long-answer story" }],
    max_tokens: 1000,
    stream: true,
  });
  let deltas = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta.content) deltas += 1;
    if (deltas === 3) stream.controller.abort();
  }
  // Events already read when the abort came may still be handed out; no more after them.
  expect(deltas).toBeGreaterThanOrEqual(3);
  expect(deltas).toBeLessThan(10);

  await expect
    .poll(async () => (await served(request, openaiTwin, model)).map((r) => [r.outcome, r.cancelled]))
    .toEqual([["cancelled", true]]);
  const [record] = await served(request, openaiTwin, model);
  expect(record.completion_tokens).toBeGreaterThanOrEqual(3);
  expect(record.completion_tokens).toBeLessThan(1000);
  expect(record.prompt_tokens).toBe(promptTokens(["Tell me a long-answer story"]));

  // The same with Anthropic's stream helper.
  const messages = anthropic.messages.stream({
    model,
    max_tokens: 1000,
    messages: [{ role: "user", content: "Tell me a long-answer story" }],
  });
  let anthropicDeltas = 0;
  messages.on("text", () => {
    anthropicDeltas += 1;
    if (anthropicDeltas === 3) messages.abort();
  });
  await messages.done().catch(() => undefined);
  await expect
    .poll(async () => (await served(request, anthropicTwin, model)).map((r) => [r.outcome, r.cancelled]))
    .toEqual([["cancelled", true]]);
});
