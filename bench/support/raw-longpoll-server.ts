/**
 * Baseline for the long-poll benchmark: a minimal raw node:http server that holds GET /poll
 * requests and answers all of them when POST /release arrives. No auth, no database, no routing
 * framework: the least a server can do to hold and wake polls.
 */
import { createServer, type ServerResponse } from 'node:http';

const held = new Set<ServerResponse>();
let version = 1;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/poll')) {
    held.add(res);
    res.on('close', () => held.delete(res));
    return;
  }
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ heldPolls: held.size }));
    return;
  }
  if (req.method === 'POST' && req.url === '/release') {
    version++;
    const body = JSON.stringify({ version, tests: [{ name: 'all' }] });
    for (const r of held) {
      r.writeHead(200, { 'content-type': 'application/json' });
      r.end(body);
    }
    held.clear();
    res.writeHead(204);
    res.end();
    return;
  }
  res.writeHead(404);
  res.end();
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
