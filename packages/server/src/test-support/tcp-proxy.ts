import net from 'node:net';

/** A TCP proxy on 127.0.0.1 whose upstream can be swapped and which can play "down". */
export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** Where new connections go (`http://host:port/…`; only host and port count). */
  target: string;
  /** While true, every new connection is hung up at once, as if the server were down. */
  refusing: boolean;
  /** Connections hung up while refusing. */
  readonly refused: number;
  /** Cuts every piped connection; new ones still go through. */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy in front of `target`, so a test can cut a client's connection or swap its server. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const piped = new Set<net.Socket>();
  let refused = 0;
  const proxy = {
    target,
    refusing: false,
    get refused() {
      return refused;
    },
    port: 0,
    cut() {
      for (const socket of piped) socket.destroy();
    },
    async close() {
      proxy.cut();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = net.createServer((client) => {
    if (proxy.refusing) {
      refused += 1;
      client.destroy();
      return;
    }
    const { hostname, port } = new URL(proxy.target);
    const upstream = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    piped.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      piped.delete(client);
      piped.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}
