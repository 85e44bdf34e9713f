import { describe, expect, it } from "vitest";
import { parseSseChunk } from "./sse";

describe("parseSseChunk", () => {
  it("splits complete messages and keeps the incomplete tail", () => {
    const { messages, rest } = parseSseChunk('id: 1\ndata: {"text":"a"}\n\nid: 2\ndata: {"te');
    expect(messages).toEqual([{ event: "message", data: '{"text":"a"}', id: "1" }]);
    expect(rest).toBe('id: 2\ndata: {"te');
  });
  it("reads named events, CRLF line ends and skips comments", () => {
    const { messages } = parseSseChunk(": keep-alive\r\n\r\nevent: done\r\ndata: {}\r\n\r\n");
    expect(messages).toEqual([{ event: "done", data: "{}", id: undefined }]);
  });
  it("joins multi-line data", () => {
    expect(parseSseChunk("data: a\ndata: b\n\n").messages[0].data).toBe("a\nb");
  });
});
