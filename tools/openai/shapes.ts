// The /v1 shapes of the dashboard's OpenAPI document against OpenAI's, at compile time: the types generated from the
// document (frontend/src/lib/apiSchema.ts) must fit the types of the official client (npm openai, pinned here), which
// are OpenAI's documented shapes. Checked by python/tests/dashboard/test_openai_contract.py (tsc -p tools/openai).
import type { CompletionCreateParamsBase } from "openai/resources/completions";
import type { ChatCompletionCreateParamsBase } from "openai/resources/chat/completions";
import type { PageResponse } from "openai/pagination";
import type OpenAI from "openai";
import type { components } from "../../frontend/src/lib/apiSchema";

type S = components["schemas"];

/** Compiles only when Ours is assignable to Theirs; tsc's error names the property that is not. */
export type Fits<Ours extends Theirs, Theirs> = [Ours, Theirs];

/** The fields of a request whose type (null and absence included) is not the type OpenAI gives that field, and fields
 * OpenAI does not have, less the Extensions this server adds; `never` when every field fits. */
export type Misfits<Ours, Theirs, Extensions extends PropertyKey = never> = {
  [K in keyof Ours]-?: K extends Extensions ? never
    : K extends keyof Theirs ? ([Ours[K]] extends [Theirs[K] | undefined] ? never : K)
    : K;
}[keyof Ours];

/** Parameters this server takes that OpenAI does not have. */
type Extensions = "top_k" | "repetition_penalty";

// ----- requests: every field as OpenAI types it; the extensions are really not OpenAI's --------------------------
export type CompletionRequest = Fits<Misfits<S["OpenAICompletionCreateParams"], CompletionCreateParamsBase, Extensions>, never>;
// `tools` may only be empty (maxItems 0), which openapi-typescript types as unknown[]: its items' type is moot.
type ChatParams = Omit<S["OpenAIChatCompletionCreateParams"], "tools">;
export type Tools = Fits<S["OpenAIChatCompletionCreateParams"]["tools"], unknown[] | undefined>;
export type ChatRequest = Fits<Misfits<ChatParams, ChatCompletionCreateParamsBase, Extensions>, never>;
export type ExtensionsAreOurs = Fits<Extract<Extensions, keyof CompletionCreateParamsBase | keyof ChatCompletionCreateParamsBase>, never>;
// A chat request is a whole OpenAI chat request (OpenAI requires a completion's prompt, which this server defaults).
export type WholeChatRequest = Fits<ChatParams, ChatCompletionCreateParamsBase>;

// ----- responses ------------------------------------------------------------------------------------------------
export type Model = Fits<S["OpenAIModel"], OpenAI.Models.Model>;
export type ModelList = Fits<S["OpenAIModelList"], PageResponse<OpenAI.Models.Model> & { object: "list" }>;
export type Usage = Fits<S["OpenAIUsage"], OpenAI.Completions.CompletionUsage>;
export type Completion = Fits<S["OpenAICompletion"], OpenAI.Completions.Completion>;
export type ErrorResponse = Fits<S["OpenAIErrorResponse"], { error: OpenAI.ErrorObject }>;

// OpenAI streams completions as Completion objects, whose type leaves out the null finish_reason that OpenAI's stream
// (and this one) sends until the last chunk: the chunk fits once that null is set aside.
type ChunkChoice = S["OpenAICompletionChunkChoice"];
export type CompletionChunk = Fits<Omit<S["OpenAICompletionChunk"], "choices"> & {
  choices: (Omit<ChunkChoice, "finish_reason"> & { finish_reason: NonNullable<ChunkChoice["finish_reason"]> })[];
}, OpenAI.Completions.Completion>;

export type ChatCompletion = Fits<S["OpenAIChatCompletion"], OpenAI.Chat.Completions.ChatCompletion>;
export type ChatCompletionChunk = Fits<S["OpenAIChatCompletionChunk"], OpenAI.Chat.Completions.ChatCompletionChunk>;
