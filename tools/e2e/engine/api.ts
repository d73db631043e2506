/**
 * A minimal Docker Engine API client over the daemon's unix socket (node's http module; API v1.41, the version
 * of Debian's docker.io 20.10): JSON requests, a raw body upload (image import), and exec with its exit code.
 */
import * as http from 'node:http';

const API = '/v1.41';

/** An Engine API error: the status code and the daemon's own message. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class EngineClient {
  constructor(readonly socket: string) {}

  /** Sends a request; resolves the parsed JSON body (or the raw text when not JSON), rejects on status >= 400. */
  request<T = any>(method: string, path: string, body?: unknown, options: { raw?: Buffer; contentType?: string; timeoutMs?: number; binary?: boolean } = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      const payload = options.raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
      const req = http.request(
        {
          socketPath: this.socket,
          method,
          path: `${API}${path}`,
          headers: payload ? { 'Content-Type': options.contentType ?? 'application/json', 'Content-Length': payload.length } : {},
          timeout: options.timeoutMs ?? 120_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const bytes = Buffer.concat(chunks);
            if (options.binary && (res.statusCode ?? 500) < 400) return resolve(bytes as T);
            const text = bytes.toString('utf8');
            let parsed: any = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              // a stream (image import progress) or plain text
            }
            if ((res.statusCode ?? 500) >= 400) reject(new EngineError(res.statusCode ?? 500, `${method} ${path}: ${res.statusCode} ${parsed?.message ?? text}`));
            else resolve(parsed as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from the Docker daemon at ${this.socket}`)));
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * Follows a newline-delimited JSON stream (GET /events): resolves once the daemon answers, so nothing after that
   * is missed; `stop` closes it and returns every object received.
   */
  follow(path: string): Promise<{ stop: () => Promise<any[]> }> {
    return new Promise((resolve, reject) => {
      const received: any[] = [];
      let pending = '';
      const req = http.request({ socketPath: this.socket, method: 'GET', path: `${API}${path}` }, (res) => {
        if ((res.statusCode ?? 500) >= 400) return reject(new EngineError(res.statusCode ?? 500, `GET ${path}: ${res.statusCode}`));
        res.on('data', (chunk: Buffer) => {
          const lines = (pending + chunk.toString('utf8')).split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) received.push(JSON.parse(line));
        });
        res.on('error', () => undefined); // closed by stop()
        resolve({
          stop: async () => {
            // The last events of an apply reach the stream a moment after the API calls that caused them return.
            await new Promise((r) => setTimeout(r, 500));
            req.destroy();
            return received;
          },
        });
      });
      req.on('error', (error) => {
        if (!req.destroyed) reject(error);
      });
      // Until the daemon answers (an open stream may then be quiet for minutes).
      const answered = setTimeout(() => {
        req.destroy();
        reject(new Error(`GET ${path}: no answer from the Docker daemon at ${this.socket}`));
      }, 30_000);
      req.on('response', () => clearTimeout(answered));
      req.end();
    });
  }

  inspect(container: string): Promise<any> {
    return this.request('GET', `/containers/${encodeURIComponent(container)}/json`);
  }

  /** Runs a command in a running container (as `user`, default the container's) and returns its exit code and output. */
  async exec(container: string, cmd: readonly string[], user?: string): Promise<{ exitCode: number; output: string }> {
    const created = await this.request<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
      Cmd: cmd,
      AttachStdout: true,
      AttachStderr: true,
      ...(user ? { User: user } : {}),
    });
    const raw: Buffer = await this.request('POST', `/exec/${created.Id}/start`, { Detach: false, Tty: false }, { binary: true });
    const inspected = await this.request<{ ExitCode: number }>('GET', `/exec/${created.Id}/json`);
    return { exitCode: inspected.ExitCode, output: demultiplex(raw) };
  }
}

/** Strips the 8-byte frame headers of a non-TTY attach stream (Engine API "Stream format"), keeping the text. */
export function demultiplex(buffer: Buffer): string {
  const out: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length && buffer[offset] <= 2 && buffer[offset + 1] === 0) {
    const size = buffer.readUInt32BE(offset + 4);
    out.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return (out.length > 0 ? Buffer.concat(out) : buffer).toString('utf8');
}
