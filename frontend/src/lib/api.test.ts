import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError } from "./api";

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
});
