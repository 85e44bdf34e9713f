import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, generateStream, type Sampling } from "./api";

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

/** Stands in for fetch with one answer, recording each request as the client sent it. */
function answer(response: () => Response | Promise<Response>) {
  const requests: Request[] = [];
  vi.stubGlobal("fetch", vi.fn(async (request: Request) => {
    requests.push(request);
    return response();
  }));
  return requests;
}

async function refusal(call: Promise<unknown>): Promise<ApiError> {
  const error = await call.then(() => null, (e) => e);
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

afterEach(() => vi.unstubAllGlobals());

describe("the API client", () => {
  it("sends the documented request: method, path, query and JSON body", async () => {
    const requests = answer(() => json([]));
    await api.sessionLog("s-1", 7, ["metrics", "sample"]);
    await api.control("s-1", "pause");
    await api.rename("s-1", "fox");
    const [log, pause, rename] = requests;
    expect(log.method).toBe("GET");
    const url = new URL(log.url);
    expect(url.pathname).toBe("/api/sessions/s-1/log");
    expect(Object.fromEntries(url.searchParams)).toEqual({ after: "7", types: "metrics,sample" });
    expect([pause.method, new URL(pause.url).pathname]).toEqual(["POST", "/api/sessions/s-1/pause"]);
    expect([rename.method, await rename.json()]).toEqual(["PATCH", { name: "fox" }]);
  });

  it("leaves out a query the caller did not give", async () => {
    const requests = answer(() => json({ valid: true, errors: [] }));
    await api.validateConfig({ preset: "tiny" }, null);
    await api.validateConfig({ preset: "tiny" }, "poetry");
    expect(new URL(requests[0].url).search).toBe("");
    expect(new URL(requests[1].url).search).toBe("?dataset=poetry");
  });

  it("resolves a 204 with nothing", async () => {
    answer(() => new Response(null, { status: 204 }));
    await expect(api.deleteSession("s-1")).resolves.toBeUndefined();
  });

  it("turns a refusal into the server's sentence with the fields at fault", async () => {
    answer(() => json({ detail: "hidden_size 100 must be a positive multiple of 32", errors: [{ field: "hidden_size", message: "must be a multiple of 32" }] }, 422));
    const error = await refusal(api.createSession({ config: { hidden_size: 100 }, dataset: "poetry" }));
    expect([error.status, error.message]).toEqual([422, "hidden_size 100 must be a positive multiple of 32"]);
    expect(error.fieldErrors).toEqual([{ field: "hidden_size", message: "must be a multiple of 32" }]);
  });

  it("says the status line when a refusal is not JSON, and what went wrong when a success is not", async () => {
    answer(() => new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }));
    expect((await refusal(api.status())).message).toBe("502 Bad Gateway");
    answer(() => new Response("<html>sign in</html>", { status: 200, headers: { "Content-Type": "text/html" } }));
    expect((await refusal(api.status())).message).toMatch(/^The server's answer is not JSON/);
  });

  it("says the server cannot be reached when fetch fails, and lets an abort through", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => {
      throw new TypeError("Failed to fetch");
    }));
    const error = await refusal(api.sessions());
    expect([error.status, error.message]).toEqual([0, "The server cannot be reached. Is it still running?"]);
    const abort = new AbortController();
    abort.abort();
    vi.stubGlobal("fetch", vi.fn(async () => {
      throw new DOMException("aborted", "AbortError");
    }));
    await expect(api.validateConfig({}, null, abort.signal)).rejects.toHaveProperty("name", "AbortError");
  });

  it("streams a generation's pieces, then its summary, and a refusal before the stream as the server's sentence", async () => {
    const events = 'id: 1\ndata: {"index":1,"text":"Once","elapsed_ms":1.5}\n\nid: 2\ndata: {"index":2,"text":" upon","elapsed_ms":3}\n\n' +
      'event: done\ndata: {"text":"Once upon","token_count":2,"stop_reason":"max_tokens"}\n\n';
    const requests = answer(() => new Response(events, { status: 200, headers: { "Content-Type": "text/event-stream" } }));
    const sampling: Sampling = { temperature: 0.8, top_k: 40, top_p: 0.95, repetition_penalty: 1.1, max_tokens: 2, seed: 7, top_logprobs: 0 };
    const pieces: string[] = [];
    const done = await generateStream("fox", "", sampling, (text, index) => pieces.push(`${index}:${text}`));
    expect(pieces).toEqual(["1:Once", "2: upon"]);
    expect(done.text).toBe("Once upon");
    expect(new URL(requests[0].url).pathname).toBe("/api/models/fox/generate");
    expect(await requests[0].json()).toEqual({ ...sampling, prompt: "", stream: true });

    answer(() => json({ detail: "no model named 'fox'" }, 404));
    const error = await refusal(generateStream("fox", "", sampling, () => undefined));
    expect([error.status, error.message]).toEqual([404, "no model named 'fox'"]);
  });
});
