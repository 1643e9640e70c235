import WebSocket, { type RawData } from 'ws';

export interface ConnectionHandlers {
  readonly pingAfterMs: number;
  readonly pongTimeoutMs: number;
  onOpen(): void;
  onMessage(data: RawData, binary: boolean): void;
  onStall(): void;
  onClose(reason: string): void;
}

/** One WebSocket with OKX's keepalive: `ping` after silence, and a stall (terminate) when nothing answers. */
export class Connection {
  readonly acked = new Set<string>();
  private readonly ws: WebSocket;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    readonly url: string,
    readonly id: number,
    private readonly h: ConnectionHandlers,
  ) {
    this.ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    this.ws.on('open', () => {
      this.touch();
      h.onOpen();
    });
    this.ws.on('message', (data, binary) => {
      this.touch();
      h.onMessage(data, binary);
    });
    this.ws.on('error', () => undefined); // 'close' follows with the reason
    this.ws.on('close', (code, reason) =>
      this.finish(`closed ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`),
    );
    this.ws.on('unexpected-response', (_req, res) => {
      this.finish(`server answered the upgrade with HTTP ${res.statusCode}`);
      this.ws.terminate();
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string): void {
    if (this.isOpen) this.ws.send(text);
  }

  close(): void {
    if (this.closed) return;
    this.finish('closed by us');
    this.ws.terminate();
  }

  private touch(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.ping(), this.h.pingAfterMs);
  }

  private ping(): void {
    this.send('ping');
    this.pongTimer = setTimeout(() => {
      this.h.onStall();
      this.finish('stalled: no pong');
      this.ws.terminate();
    }, this.h.pongTimeoutMs);
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.pongTimer);
    this.h.onClose(reason);
  }
}
