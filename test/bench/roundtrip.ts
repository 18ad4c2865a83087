import { once } from 'node:events';
import * as net from 'node:net';
import { RcpClient } from '../../src/rcp';
import { encodeMessage, FrameDecoder, LineDecoder, parseMessage } from '../../src/rcp/frame';
import type { Row } from './codec';

export interface Target {
  host: string;
  port: number;
  token?: string;
}

const MACHINE = 'rstmdb_bench';
const DEFINITION = { states: ['idle', 'busy'], initial: 'idle', transitions: [{ from: 'idle', event: 'go', to: 'busy' }] };

/** Makes sure the bench machine and one instance exist; returns its id. */
export async function prepareInstance(target: Target): Promise<string> {
  const client = await RcpClient.connect({ host: target.host, port: target.port, token: target.token, clientName: 'rstmdb-bench' });
  try {
    await client.putMachine({ machine: MACHINE, version: 1, definition: DEFINITION });
    const id = `bench-${process.pid}`;
    try {
      await client.createInstance({ machine: MACHINE, version: 1, instance_id: id, initial_ctx: { n: 1 } });
    } catch (e) {
      if ((e as { code?: string }).code !== 'INSTANCE_EXISTS') throw e;
    }
    return id;
  } finally {
    await client.close();
  }
}

/**
 * The least a client can do: one socket, frames written as they are made,
 * responses counted by id. The baseline the RcpClient is compared with.
 */
async function rawPipelined(target: Target, instanceId: string, total: number, window: number): Promise<number> {
  const socket = net.connect(target.port, target.host);
  await once(socket, 'connect');
  socket.setNoDelay(true);
  const decoder = new FrameDecoder();
  const lines = new LineDecoder();
  let onMessage: (m: Record<string, unknown>) => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    const payloads = chunk[0] === 0x7b || (decoder.pendingBytes === 0 && chunk[0] !== 0x52) ? lines.push(chunk) : decoder.push(chunk).map((f) => f.payload);
    for (const p of payloads) onMessage(parseMessage(p));
  });
  const call = (id: string, op: string, params: object) =>
    new Promise<Record<string, unknown>>((resolve) => {
      onMessage = resolve;
      socket.write(encodeMessage({ type: 'request', id, op, params }));
    });
  await call('h', 'HELLO', { protocol_version: 1, client_name: 'raw-bench', wire_modes: ['binary_json'] });
  if (target.token) await call('a', 'AUTH', { method: 'bearer', token: target.token });

  let sent = 0;
  let received = 0;
  const params = { instance_id: instanceId };
  const start = process.hrtime.bigint();
  await new Promise<void>((resolve) => {
    onMessage = () => {
      received++;
      if (sent < total) socket.write(encodeMessage({ type: 'request', id: String(sent++), op: 'GET_INSTANCE', params }));
      else if (received === total) resolve();
    };
    for (; sent < Math.min(window, total); sent++) {
      socket.write(encodeMessage({ type: 'request', id: String(sent), op: 'GET_INSTANCE', params }));
    }
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.destroy();
  return total / seconds;
}

async function clientPipelined(client: RcpClient, instanceId: string, total: number, window: number): Promise<number> {
  let sent = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (sent < total) {
      sent++;
      await client.getInstance({ instance_id: instanceId });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function clientSequential(client: RcpClient, instanceId: string, total: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < total; i++) await client.getInstance({ instance_id: instanceId });
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** One timed run: requests per second of wall time, and this process's CPU time per request (µs). */
interface Run {
  rps: number;
  cpuUs: number;
}

async function timed(total: number, run: () => Promise<unknown>): Promise<Run> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { rps: total / seconds, cpuUs: (used.user + used.system) / total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function roundTripBench(target: Target, scale: number): Promise<Row[]> {
  const instanceId = await prepareInstance(target);
  const client = await RcpClient.connect({ host: target.host, port: target.port, token: target.token, clientName: 'rstmdb-bench' });
  const window = 128;
  const total = Math.round(10_000 * scale);
  const pairs = scale < 1 ? 5 : 15;
  try {
    // Warm both paths (JIT, server caches) before measuring.
    await clientPipelined(client, instanceId, 2000, window);
    await rawPipelined(target, instanceId, 2000, window);
    const seq = await clientSequential(client, instanceId, Math.round(3000 * scale));
    // Pairs of runs back to back (which goes first alternates), each pair's ratio taken
    // in the same moment; the median over the pairs, so a burst of load from the
    // machine's other users lands in one pair, not in the figure.
    const raw: Run[] = [];
    const ours: Run[] = [];
    for (let i = 0; i < pairs; i++) {
      const runRaw = () => timed(total, () => rawPipelined(target, instanceId, total, window));
      const runOurs = () => timed(total, () => clientPipelined(client, instanceId, total, window));
      if (i % 2 === 0) {
        raw.push(await runRaw());
        ours.push(await runOurs());
      } else {
        ours.push(await runOurs());
        raw.push(await runRaw());
      }
    }
    const ratios = ours.map((o, i) => o.rps / raw[i].rps);
    return [
      { name: 'GET_INSTANCE sequential (RcpClient)', value: seq, unit: 'req/s' },
      { name: `GET_INSTANCE pipelined ×${window} (RcpClient)`, value: median(ours.map((r) => r.rps)), unit: 'req/s', note: `median of ${pairs}; ${median(ours.map((r) => r.cpuUs)).toFixed(1)} µs CPU per request here` },
      { name: `GET_INSTANCE pipelined ×${window} (raw loop)`, value: median(raw.map((r) => r.rps)), unit: 'req/s', note: `median of ${pairs}; ${median(raw.map((r) => r.cpuUs)).toFixed(1)} µs CPU per request here` },
      { name: 'client / raw', value: median(ratios), unit: 'ratio', note: `target ≥ 0.9; median of ${pairs} pairs (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})` },
    ];
  } finally {
    await client.close();
  }
}
