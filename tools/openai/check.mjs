// The official OpenAI client against our OpenAI-compatible API: node check.mjs BASE_URL API_KEY MODEL
// Prints one line per check and exits non-zero at the first failure.
import assert from "node:assert/strict";
import OpenAI from "openai";

const [baseURL, apiKey, model] = process.argv.slice(2);
if (!model) {
  console.error("usage: node check.mjs BASE_URL API_KEY MODEL");
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

async function check(name, body) {
  await body();
  console.log(`ok - ${name}`);
}

async function refusal(call) {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, `expected an API error, got ${error}`);
    return error;
  }
  assert.fail("the request was accepted");
}

await check("list models", async () => {
  const models = await client.models.list();
  assert.ok(models.data.some((m) => m.id === model && m.object === "model"), JSON.stringify(models.data));
});

let greedy;
await check("completion with usage and finish_reason length", async () => {
  const completion = await client.completions.create({ model, prompt: "abc", max_tokens: 24, temperature: 0 });
  greedy = completion.choices[0].text;
  assert.equal(typeof greedy, "string");
  assert.equal(completion.object, "text_completion");
  assert.equal(completion.choices[0].finish_reason, "length");
  assert.equal(completion.usage.completion_tokens, 24);
  assert.ok(completion.usage.prompt_tokens > 0);
  assert.equal(completion.usage.total_tokens, completion.usage.prompt_tokens + completion.usage.completion_tokens);
});

await check("seed determinism at temperature 0 (and with a seed when sampling)", async () => {
  const again = await client.completions.create({ model, prompt: "abc", max_tokens: 24, temperature: 0, seed: 123 });
  assert.equal(again.choices[0].text, greedy);
  const sampled = () => client.completions.create({ model, prompt: "abc", max_tokens: 24, temperature: 0.9, seed: 7 });
  const [a, b] = [await sampled(), await sampled()];
  assert.equal(a.choices[0].text, b.choices[0].text);
});

await check("stop ends the text before the stop string", async () => {
  const at = Math.floor(greedy.length / 2);
  const stop = greedy.slice(at, at + 2);
  const stopped = await client.completions.create({ model, prompt: "abc", max_tokens: 24, temperature: 0, stop: [stop] });
  assert.equal(stopped.choices[0].text, greedy.slice(0, greedy.indexOf(stop)));
  assert.equal(stopped.choices[0].finish_reason, "stop");
  assert.ok(stopped.usage.completion_tokens <= 24);
});

await check("streamed completion adds up to the whole one", async () => {
  const stream = await client.completions.create({ model, prompt: "abc", max_tokens: 24, temperature: 0, stream: true });
  let text = "";
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.text ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, greedy);
  assert.equal(finish, "length");
});

await check("streamed chat with usage", async () => {
  const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "abc" }];
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0 });
  assert.equal(whole.choices[0].message.role, "assistant");
  const stream = await client.chat.completions.create({
    model, messages, max_tokens: 16, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  let role = null;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice) {
      role = choice.delta.role ?? role;
      text += choice.delta.content ?? "";
      finish = choice.finish_reason ?? finish;
    }
    usage = chunk.usage ?? usage;
  }
  assert.equal(role, "assistant");
  assert.equal(text, whole.choices[0].message.content);
  assert.ok(["stop", "length"].includes(finish));
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
});

await check("chat logprobs list the chosen token and its candidates", async () => {
  const chat = await client.chat.completions.create({
    model, messages: [{ role: "user", content: "abc" }], max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const content = chat.choices[0].logprobs.content;
  assert.ok(content.length > 0);
  for (const entry of content) {
    assert.equal(entry.top_logprobs.length, 3);
    assert.ok(entry.logprob <= 0);
    assert.ok(Math.abs(entry.logprob - entry.top_logprobs[0].logprob) < 1e-9, "greedy picks the likeliest token");
  }
});

await check("unknown model is a 404", async () => {
  const error = await refusal(() => client.completions.create({ model: "no-such-model", prompt: "a" }));
  assert.equal(error.status, 404);
  assert.equal(error.code, "model_not_found");
});

await check("max_tokens -1 is a 400", async () => {
  const error = await refusal(() => client.completions.create({ model, prompt: "a", max_tokens: -1 }));
  assert.equal(error.status, 400);
  assert.equal(error.param, "max_tokens");
});

await check("a wrong API key is a 401", async () => {
  const wrong = new OpenAI({ baseURL, apiKey: `${apiKey}-wrong`, maxRetries: 0 });
  const error = await refusal(() => wrong.models.list());
  assert.equal(error.status, 401);
});
