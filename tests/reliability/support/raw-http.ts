// A raw HTTP/1.1 client over node:net, for requests no well-behaved client would send: invalid bytes, broken
// framing, headers dripped byte by byte. It reads the first answer (status, headers, body) and tells whether
// the server closed the connection. Bounded in time and bytes; loopback only.

import { connect, type Socket } from "node:net";

export interface RawAnswer {
  /** 0 when the server closed the connection without answering. */
  readonly status: number;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Milliseconds from the connection to the end of the answer (or the close, after Connection: close). */
  readonly elapsedMs: number;
  readonly closedByServer: boolean;
}

export interface RawRequestOptions {
  /** Give up (and report what arrived) after this long. */
  readonly timeoutMs: number;
  /** Pieces to send one after the other, this long apart (a slow client); 0 sends them at once. */
  readonly pieceIntervalMs?: number;
  /** The answer to a HEAD request has no body, whatever its Content-Length says. */
  readonly isHead?: boolean;
}

/** The longest answer read; none of ours comes near it. */
const ANSWER_BYTES_MAX = 1024 * 1024;

interface ParsedHead {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bodyStart: number;
}

function parseHead(received: Buffer): ParsedHead | undefined {
  const end = received.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const lines = received.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status, headers, bodyStart: end + 4 };
}

/** Decodes a chunked body once it is complete; undefined while chunks are missing. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const chunks: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", offset);
    if (lineEnd === -1) return undefined;
    const size = parseInt(bytes.subarray(offset, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) return Buffer.concat(chunks);
    if (size === 0) return Buffer.concat(chunks);
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}

/** The answer, once the bytes received hold a complete one. */
function completeAnswer(
  received: Buffer,
  isHead: boolean,
): Omit<RawAnswer, "elapsedMs" | "closedByServer"> | undefined {
  const head = parseHead(received);
  if (head === undefined) return undefined;
  const rest = received.subarray(head.bodyStart);
  const noBody =
    isHead || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
  if (noBody) return { status: head.status, headers: head.headers, body: Buffer.alloc(0) };
  if (head.headers["transfer-encoding"]?.toLowerCase().includes("chunked") === true) {
    const body = dechunk(rest);
    return body === undefined ? undefined : { status: head.status, headers: head.headers, body };
  }
  const length = Number(head.headers["content-length"]);
  if (Number.isInteger(length) && rest.length >= length) {
    return { status: head.status, headers: head.headers, body: rest.subarray(0, length) };
  }
  return undefined;
}

/** Sends raw bytes to 127.0.0.1:port and reads the first answer. Never rejects: a failure is in the answer. */
export function sendRaw(
  port: number,
  pieces: readonly Buffer[],
  options: RawRequestOptions,
): Promise<RawAnswer> {
  return new Promise((resolveAnswer) => {
    const startedAtMs = Date.now();
    let received = Buffer.alloc(0);
    let settled = false;
    let closedByServer = false;
    const timers: NodeJS.Timeout[] = [];
    const socket: Socket = connect({ host: "127.0.0.1", port });

    const finish = (): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      const answer = completeAnswer(received, options.isHead === true);
      const head = parseHead(received);
      socket.destroy();
      resolveAnswer({
        status: answer?.status ?? head?.status ?? 0,
        headers: answer?.headers ?? head?.headers ?? {},
        body: answer?.body ?? (head === undefined ? Buffer.alloc(0) : received.subarray(head.bodyStart)),
        elapsedMs: Date.now() - startedAtMs,
        closedByServer,
      });
    };

    socket.on("data", (chunk: Buffer) => {
      if (received.length < ANSWER_BYTES_MAX) received = Buffer.concat([received, chunk]);
      const answer = completeAnswer(received, options.isHead === true);
      // An answer with Connection: close is complete when the server has closed, too.
      if (answer !== undefined && answer.headers.connection?.toLowerCase() !== "close") finish();
    });
    socket.on("end", () => {
      closedByServer = true;
      finish();
    });
    socket.on("close", () => {
      closedByServer = true;
      finish();
    });
    // A server that answers early (413) and closes may make our writes fail: the answer is what counts.
    socket.on("error", () => undefined);
    timers.push(setTimeout(finish, options.timeoutMs));

    socket.on("connect", () => {
      const interval = options.pieceIntervalMs ?? 0;
      if (interval === 0) {
        for (const piece of pieces) if (!socket.destroyed) socket.write(piece);
        return;
      }
      pieces.forEach((piece, index) => {
        timers.push(
          setTimeout(() => {
            if (!socket.destroyed && !settled) socket.write(piece);
          }, index * interval),
        );
      });
    });
  });
}

/** Splits a request into one-byte pieces, for a client that drips its headers. */
export function byteByByte(text: string): Buffer[] {
  return [...Buffer.from(text, "latin1")].map((byte) => Buffer.from([byte]));
}
