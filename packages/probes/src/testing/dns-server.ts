import dgram from 'node:dgram';

/**
 * A tiny authoritative DNS server over UDP on 127.0.0.1 for probe tests: answers A and TXT
 * records from a table, NXDOMAIN for unknown names, and never answers names in `silent` (to
 * exercise timeouts). It handles one question per query, as resolvers send.
 */
export type DnsZone = { a?: Record<string, string[]>; txt?: Record<string, string[]>; silent?: string[] };

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i] as number;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function answer(query: Buffer, zone: DnsZone): Buffer | undefined {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  if (zone.silent?.includes(name)) return undefined;
  const question = query.subarray(12, end + 4);
  const rdatas: Buffer[] = [];
  const known = name in (zone.a ?? {}) || name in (zone.txt ?? {});
  if (qtype === 1) for (const ip of zone.a?.[name] ?? []) rdatas.push(Buffer.from(ip.split('.').map(Number)));
  if (qtype === 16)
    for (const t of zone.txt?.[name] ?? []) rdatas.push(Buffer.concat([Buffer.from([t.length]), Buffer.from(t)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8180 | (known ? 0 : 3), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rdatas.length, 6);
  const answers = rdatas.map((rdata) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(qtype, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, question, ...answers]);
}

export async function startDnsServer(
  zone: DnsZone,
): Promise<{ address: string; queries: number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const state = { queries: 0 };
  socket.on('message', (msg, rinfo) => {
    state.queries++;
    try {
      const reply = answer(msg, zone);
      if (reply) socket.send(reply, rinfo.port, rinfo.address);
    } catch {
      // a malformed query gets no answer
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  return {
    address: `127.0.0.1:${port}`,
    get queries() {
      return state.queries;
    },
    close: () => new Promise((resolve) => socket.close(() => resolve())),
  };
}
