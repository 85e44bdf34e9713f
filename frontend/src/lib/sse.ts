// Server-Sent Events text parsing for responses read with fetch (POST streams cannot use EventSource).

export type SseMessage = { event: string; data: string; id?: string };

/** Splits complete messages off the front of `text`; `rest` is the incomplete tail to prepend to the next chunk. */
export function parseSseChunk(text: string): { messages: SseMessage[]; rest: string } {
  const normalized = text.replace(/\r\n?/g, "\n");
  const blocks = normalized.split("\n\n");
  const rest = blocks.pop() ?? "";
  const messages: SseMessage[] = [];
  for (const block of blocks) {
    let event = "message";
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (data.length > 0) messages.push({ event, data: data.join("\n"), id });
  }
  return { messages, rest };
}
