/** A loopback TCP proxy for the registry tests: it can cut or throttle connections. */
import * as net from "node:net";

/** A loopback TCP proxy in front of a registry; see {@link startProxy}. */
export interface TcpProxy {
  /** `127.0.0.1:PORT` to use instead of the registry's address. */
  address: string;
  /** How many connections the proxy has cut. */
  readonly cuts: number;
  /** Everything clients sent through the proxy (requests and headers), as text. */
  readonly received: string;
  close(): Promise<void>;
}

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Cut the first connection that carries more than this many bytes to the client. */
  cutAfterBytes?: number;
  /** Limit each connection's bytes to the client per second. */
  bytesPerSecond?: number;
}

/**
 * A TCP proxy on 127.0.0.1 forwarding to `target` (`host:port`) that can cut one connection
 * once after `cutAfterBytes` bytes have gone to the client (a dropped connection mid-layer)
 * and throttle what goes to the client (a slow download that can be interrupted).
 */
export async function startProxy(target: string, opts: ProxyOptions = {}): Promise<TcpProxy> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(":")),
    Number(target.slice(target.lastIndexOf(":") + 1)),
  ];
  let cuts = 0;
  let cutDone = false;
  let received = "";
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
    client.on("data", (d: Buffer) => {
      received += d.toString("latin1");
      upstream.write(d);
    });
    const started = Date.now();
    let cutHere = false;
    upstream.on("data", (d: Buffer) => {
      if (cutHere) return;
      if (!cutDone && opts.cutAfterBytes !== undefined && sent + d.length > opts.cutAfterBytes) {
        cutDone = true;
        cutHere = true;
        cuts++;
        client.write(d.subarray(0, Math.max(0, opts.cutAfterBytes - sent)), () => close());
        return;
      }
      sent += d.length;
      client.write(d);
      if (opts.bytesPerSecond) {
        const due = (sent / opts.bytesPerSecond) * 1000 - (Date.now() - started);
        if (due > 0) {
          upstream.pause();
          setTimeout(() => upstream.resume(), due);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port: listen } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${listen}`,
    get cuts() {
      return cuts;
    },
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
