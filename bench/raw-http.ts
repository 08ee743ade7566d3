/**
 * A lean HTTP/1.1 client for the open-loop generators: keep-alive sockets, one request in flight per
 * socket, requests written as prepared bytes and replies framed by their `content-length` (or chunked).
 *
 * Why not `node:http`'s client: at 2,000 requests/s it used a quarter of a core in the generator (an
 * IncomingMessage stream, header objects and a parser per reply), and on this two-core machine that time
 * is taken from the server it measures. Worse, a reply the generator reads late counts as the server's
 * latency: the generator's own event-loop delay (p99 4–5 ms in `decide`'s runs) sat inside every p99 it
 * reported. This client does the least a client can: no pipelining (a real client's requests do not queue
 * behind each other on one socket), no retries, nothing parsed but the status and the framing.
 */
import { connect, type Socket } from 'node:net';

export interface RawReply {
  readonly status: number;
  /** The body's bytes; empty unless the request asked to keep them. */
  readonly body: Buffer;
}

/** Called once per request: the reply, or `error` (connection refused, reset, or closed mid-reply). */
export type RawDone = (reply: RawReply | 'error') => void;

interface Pending {
  readonly bytes: Buffer;
  readonly keepBody: boolean;
  readonly done: RawDone;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const LENGTH_HEADER = '\r\ncontent-length:';

/** What a reply's head says about the body that follows it. */
interface Framing {
  readonly status: number;
  readonly headBytes: number;
  /** The body's length, or `chunked`. */
  readonly length: number | 'chunked';
}

function framing(data: Buffer): Framing | null {
  const end = data.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = data.toString('latin1', 0, end);
  // "HTTP/1.1 200 OK": the status is the second word.
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const lengthAt = lower.indexOf(LENGTH_HEADER);
  if (lengthAt >= 0) {
    const valueStart = lengthAt + LENGTH_HEADER.length;
    const valueEnd = lower.indexOf('\r\n', valueStart);
    const value = lower.slice(valueStart, valueEnd < 0 ? undefined : valueEnd);
    return { status, headBytes: end + 4, length: Number.parseInt(value.trim(), 10) };
  }
  if (lower.includes('\r\ntransfer-encoding: chunked'))
    return { status, headBytes: end + 4, length: 'chunked' };
  // No length and not chunked: a reply without a body (204, 304) or one ended by closing, which a
  // keep-alive server does not send.
  return { status, headBytes: end + 4, length: 0 };
}

/** A chunked body's bytes once all its chunks have arrived, or null while more are due. */
function dechunk(data: Buffer, from: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = Number.parseInt(data.toString('latin1', at, lineEnd), 16);
    const chunkStart = lineEnd + 2;
    if (size === 0) {
      // The last chunk, then (no trailers from these servers) a blank line.
      if (data.length < chunkStart + 2) return null;
      return { body: Buffer.concat(parts), end: chunkStart + 2 };
    }
    if (data.length < chunkStart + size + 2) return null;
    parts.push(data.subarray(chunkStart, chunkStart + size));
    at = chunkStart + size + 2;
  }
}

/** One keep-alive connection; `send` only while `idle`. */
class Connection {
  private buffered: Buffer = Buffer.alloc(0);
  private current: Pending | null = null;
  private readonly socket: Socket;

  constructor(
    port: number,
    host: string,
    private readonly onIdle: (connection: Connection) => void,
    private readonly onClose: (connection: Connection) => void,
  ) {
    this.socket = connect({ port, host, noDelay: true });
    this.socket.on('data', (chunk) => this.received(chunk));
    const closed = (): void => {
      const pending = this.current;
      this.current = null;
      this.onClose(this);
      pending?.done('error');
    };
    this.socket.on('error', () => this.socket.destroy());
    this.socket.on('close', closed);
  }

  get idle(): boolean {
    return this.current === null;
  }

  send(pending: Pending): void {
    this.current = pending;
    this.socket.write(pending.bytes);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const pending = this.current;
    if (pending === null) return;
    const frame = framing(this.buffered);
    if (frame === null) return;
    let body: Buffer;
    let end: number;
    if (frame.length === 'chunked') {
      const whole = dechunk(this.buffered, frame.headBytes);
      if (whole === null) return;
      ({ body, end } = whole);
    } else {
      end = frame.headBytes + frame.length;
      if (this.buffered.length < end) return;
      body = this.buffered.subarray(frame.headBytes, end);
    }
    const kept = pending.keepBody ? Buffer.from(body) : Buffer.alloc(0);
    this.buffered = this.buffered.length === end ? Buffer.alloc(0) : this.buffered.subarray(end);
    this.current = null;
    this.onIdle(this);
    pending.done({ status: frame.status, body: kept });
  }
}

/**
 * Keep-alive connections to one server, opened as needed up to `maxSockets`; requests beyond that wait in
 * order for the next free connection (as `node:http`'s Agent queues them).
 */
export class RawHttpPool {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly waiting: Pending[] = [];
  private readonly host: string;
  private readonly port: number;
  private readonly fixedHeaders: string;

  constructor(
    url: string,
    private readonly maxSockets: number,
    headers: Readonly<Record<string, string>> = {},
  ) {
    const target = new URL(url);
    this.host = target.hostname;
    this.port = Number(target.port || 80);
    this.fixedHeaders =
      `Host: ${target.host}\r\nConnection: keep-alive\r\n` +
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
  }

  /** A request's bytes, prepared once (before a timed run) and sent as they are. */
  prepare(method: 'GET' | 'POST', path: string, jsonBody?: string): Buffer {
    if (jsonBody === undefined) return Buffer.from(`${method} ${path} HTTP/1.1\r\n${this.fixedHeaders}\r\n`);
    const body = Buffer.from(jsonBody);
    const head =
      `${method} ${path} HTTP/1.1\r\n${this.fixedHeaders}` +
      `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head), body]);
  }

  send(bytes: Buffer, done: RawDone, keepBody = false): void {
    const pending: Pending = { bytes, keepBody, done };
    const connection = this.idle.pop();
    if (connection !== undefined) connection.send(pending);
    else if (this.open.size < this.maxSockets) this.connectAndSend(pending);
    else this.waiting.push(pending);
  }

  destroy(): void {
    this.waiting.length = 0;
    for (const connection of this.open) connection.destroy();
    this.open.clear();
    this.idle.length = 0;
  }

  private connectAndSend(pending: Pending): void {
    const connection = new Connection(
      this.port,
      this.host,
      (free) => {
        const next = this.waiting.shift();
        if (next !== undefined) free.send(next);
        else this.idle.push(free);
      },
      (closed) => {
        this.open.delete(closed);
        const at = this.idle.indexOf(closed);
        if (at >= 0) this.idle.splice(at, 1);
        const next = this.waiting.shift();
        if (next !== undefined) this.connectAndSend(next);
      },
    );
    this.open.add(connection);
    // net.Socket buffers writes made before it connects.
    connection.send(pending);
  }
}
