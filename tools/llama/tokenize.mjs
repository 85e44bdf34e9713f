// Prints llama.cpp's tokenization of a UTF-8 text file with a GGUF's tokenizer as a JSON array of ids.
// usage: node tokenize.mjs MODEL.gguf TEXT_FILE
import {readFileSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

const [modelPath, textPath] = process.argv.slice(2);
if (!modelPath || !textPath) {
    console.error("usage: node tokenize.mjs MODEL.gguf TEXT_FILE");
    process.exit(2);
}
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath, gpuLayers: 0, vocabOnly: true});
console.log(JSON.stringify(Array.from(model.tokenize(readFileSync(textPath, "utf8"), false))));
await model.dispose();
await llama.dispose();
