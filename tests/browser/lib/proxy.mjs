// A TCP proxy in front of chatd, to cut one browser context's network: every request and
// WebSocket of a page opened through it passes here (the client is same-origin). `cut()` resets
// every proxied connection and refuses new ones until `restore()`.
import net from 'node:net';

export async function startProxy({ targetPort, targetHost = '127.0.0.1', port = 0, host = '127.0.0.1' }) {
  const pairs = new Set();
  let isCut = false;
  let accepted = 0;
  let refused = 0;

  const server = net.createServer((client) => {
    if (isCut) {
      refused++;
      hardClose(client);
      return;
    }
    accepted++;
    const upstream = net.connect({ host: targetHost, port: targetPort });
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await listen(server, port, host);
  const address = server.address();

  return {
    port: address.port,
    origin: `http://${host}:${address.port}`,
    get connections() {
      return pairs.size;
    },
    get stats() {
      return { accepted, refused, open: pairs.size, cut: isCut };
    },
    /** Reset every proxied connection (both ends) and refuse new ones. */
    cut() {
      isCut = true;
      for (const { client, upstream } of pairs) {
        hardClose(client);
        upstream.destroy();
      }
      pairs.clear();
    },
    restore() {
      isCut = false;
    },
    async close() {
      this.cut();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function hardClose(socket) {
  // A reset, as a dropped network gives the browser, rather than an orderly FIN.
  if (typeof socket.resetAndDestroy === 'function') {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // not connected any more: fall through
    }
  }
  socket.destroy();
}

/** Listens on `port`, or, when it is taken (or 0), on any free port. */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (error) => {
      if (port && error.code === 'EADDRINUSE') {
        server.removeListener('error', onError);
        console.log(`proxy: port ${port} is taken, listening on a free port instead`);
        server.listen(0, host, resolve);
        server.once('error', reject);
      } else {
        reject(error);
      }
    };
    server.on('error', onError);
    server.listen(port, host, () => {
      server.removeListener('error', onError);
      resolve();
    });
  });
}
