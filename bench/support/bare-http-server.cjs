/**
 * The memory baseline for the agent: the least a node:http server is, serving one 1 KiB buffer
 * on 127.0.0.1 (issue 20's "bare node:http"). Prints its port on stdout. CommonJS, as the agent's
 * bundle is: an ES module's `import 'node:http'` builds the builtin's ESM view, which evaluates
 * lazy getters (undici and more) worth ~13 MB of RSS that neither server needs.
 */
const { createServer } = require('node:http');

const payload = Buffer.alloc(1024, '0123456789ABCDEF');
const server = createServer((_req, res) => res.end(payload));
server.listen({ port: 0, host: '127.0.0.1' }, () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.once('SIGTERM', () => process.exit(0));
