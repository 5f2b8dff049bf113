'use strict';
/**
 * A small front for the simulator, on 127.0.0.1, standing in for the reverse proxies real
 * ComfyUI servers sit behind: it checks one kind of credentials (basic, bearer, a header or a
 * query token) on every request and WebSocket upgrade, may mount ComfyUI under a path prefix,
 * and may speak TLS (optionally asking for a client certificate). It logs what it saw.
 */
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');

/**
 * @param {object} options
 * @param {string} options.target       the simulator's URL
 * @param {{type: 'basic', user: string, password: string} | {type: 'bearer', token: string} |
 *         {type: 'header', name: string, value: string} | {type: 'query', name: string, value: string}} [options.auth]
 * @param {string} [options.prefix]      e.g. '/comfy' (ComfyUI is served below it, nothing else is)
 * @param {{key: Buffer|string, cert: Buffer|string, ca?: Buffer|string, requestCert?: boolean}} [options.tls]
 */
async function startFront(options) {
  const target = new URL(options.target);
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const log = [];
  const sockets = new Set();

  /** The path to forward, or undefined when the request is outside the prefix. */
  function forwardPath(rawUrl) {
    const url = new URL(rawUrl, 'http://front');
    if (prefix && url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) return undefined;
    if (options.auth && options.auth.type === 'query') url.searchParams.delete(options.auth.name);
    const path = url.pathname.slice(prefix.length) || '/';
    const query = url.searchParams.toString();
    return query ? `${path}?${query}` : path;
  }

  function authorized(req) {
    const auth = options.auth;
    if (!auth) return true;
    const header = req.headers.authorization ?? '';
    switch (auth.type) {
      case 'basic':
        return header === `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
      case 'bearer':
        return header === `Bearer ${auth.token}`;
      case 'header':
        return req.headers[auth.name.toLowerCase()] === auth.value;
      case 'query':
        return new URL(req.url, 'http://front').searchParams.get(auth.name) === auth.value;
      default:
        return false;
    }
  }

  function clientCertificateOk(req) {
    if (!options.tls || !options.tls.requestCert) return true;
    return req.socket.authorized === true;
  }

  const onRequest = (req, res) => {
    const path = forwardPath(req.url);
    const ok = authorized(req) && clientCertificateOk(req);
    const entry = { channel: 'http', method: req.method, url: req.url, authorized: ok, headers: { ...req.headers }, body: '' };
    log.push(entry);
    // Small JSON bodies are kept for the tests (what did the client send?).
    req.on('data', (chunk) => {
      if (entry.body.length < 65536 && /json/.test(req.headers['content-type'] || '')) entry.body += chunk;
    });
    if (path === undefined) {
      res.writeHead(404, { 'content-type': 'text/html' });
      return res.end('<html><title>404 Not Found</title><body>nginx</body></html>');
    }
    if (!ok) {
      const headers = { 'content-type': 'text/html' };
      if (options.auth && options.auth.type === 'basic') headers['www-authenticate'] = 'Basic realm="comfy"';
      res.writeHead(401, headers);
      return res.end('<html><title>401 Authorization Required</title><body>nginx</body></html>');
    }
    const headers = { ...req.headers, host: target.host };
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path, headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><title>502 Bad Gateway</title></html>');
    });
    req.pipe(upstream);
  };

  const onUpgrade = (req, socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const path = forwardPath(req.url);
    const ok = authorized(req) && clientCertificateOk(req);
    log.push({ channel: 'ws', method: req.method, url: req.url, authorized: ok, headers: { ...req.headers } });
    if (path === undefined || !ok) {
      const status = path === undefined ? '404 Not Found' : '401 Unauthorized';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i];
        lines.push(`${name}: ${name.toLowerCase() === 'host' ? target.host : req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head && head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      socket.destroy();
    });
    socket.on('close', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  };

  const server = options.tls
    ? https.createServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ca: options.tls.ca,
          requestCert: !!options.tls.requestCert,
          rejectUnauthorized: false,
        },
        onRequest,
      )
    : http.createServer(onRequest);
  server.on('upgrade', onUpgrade);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Client TLS failures (an unknown CA on the client's side) must not crash the test process.
  server.on('tlsClientError', () => undefined);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const scheme = options.tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${server.address().port}${prefix}/`,
    port: server.address().port,
    log,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

module.exports = { startFront };
