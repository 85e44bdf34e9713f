import { useState } from "react";
import { api, GGUF_TYPES, type GgufType } from "@/lib/api";

// What each type means for someone choosing one (docs/gguf.md): the .bullet's 4-bit weights are dequantized first.
const HINTS: Record<GgufType, string> = {
  q8_0: "8-bit: within rounding of the .bullet model, about a quarter of f32's size",
  f16: "16-bit floats: within rounding of the .bullet model",
  f32: "32-bit floats: exactly the .bullet model, the largest file",
  q4_0: "4-bit: the smallest file, but rounding a second time changes a tiny model's output",
};

/** The model as a llama.cpp GGUF file: a tensor-type picker and the download (the server exports on first request). */
export function GgufDownload({ model }: { model: string }) {
  const [type, setType] = useState<GgufType>(GGUF_TYPES[0]);
  return (
    <span className="gguf-download" role="group" aria-label={`GGUF download of ${model}`}>
      <a className="button" href={api.ggufUrl(model, type)} download={`${model}-${type}.gguf`} data-testid="download-gguf"
         title={`${HINTS[type]}. Runs in llama.cpp, Ollama and LM Studio.`}>
        Download GGUF
      </a>
      <select aria-label={`GGUF type for ${model}`} value={type} title={HINTS[type]} onChange={(e) => setType(e.target.value as GgufType)}>
        {GGUF_TYPES.map((t) => (
          <option key={t} value={t}>{t}</option>
        ))}
      </select>
    </span>
  );
}
