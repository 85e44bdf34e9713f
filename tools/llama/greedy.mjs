// Loads a GGUF with node-llama-cpp (llama.cpp's prebuilt CPU binaries), feeds a prompt of token ids and prints
// the greedy continuation as JSON: {"ids": [...], "decode_seconds": s, "tokens_per_second": t}.
// usage: node greedy.mjs MODEL.gguf '[1,2,3]' COUNT [THREADS]
import {getLlama} from "node-llama-cpp";

const [modelPath, promptJson, countText, threadsText] = process.argv.slice(2);
if (!modelPath || !promptJson || !countText) {
    console.error("usage: node greedy.mjs MODEL.gguf '[ids]' COUNT [THREADS]");
    process.exit(2);
}
const prompt = JSON.parse(promptJson);
const count = Number(countText);
const threads = Number(threadsText ?? 1);

const llama = await getLlama({gpu: false, build: "never", logLevel: "error", maxThreads: threads});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
// F32 key/value caches, so an F32 export computes in float end to end (llama.cpp's default cache is F16).
const context = await model.createContext({
    contextSize: Math.max(64, prompt.length + count + 8), threads, batchSize: 512, flashAttention: false,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
});
const sequence = context.getSequence();
const ids = [];
let started = 0;
for await (const token of sequence.evaluate(prompt, {temperature: 0, yieldEogToken: true})) {
    if (ids.length === 0) started = performance.now();
    ids.push(token);
    if (ids.length >= count) break;
}
const seconds = (performance.now() - started) / 1000;
// The first token closes the prompt's batch; the rest are one decode each.
console.log(JSON.stringify({ids, decode_seconds: seconds, tokens_per_second: ids.length > 1 ? (ids.length - 1) / seconds : null}));
await context.dispose();
await model.dispose();
await llama.dispose();
