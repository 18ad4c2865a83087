import * as net from 'node:net';
import { encodeMessage, FrameDecoder, parseMessage } from '../../src/rcp/frame';

export type Request = { id: string; op: string; params?: Record<string, unknown> };

/** How the fake answers a HELLO: a result, or an error as the server sends it. */
export type HelloAnswer = { result: Record<string, unknown> } | { error: { code: string; message: string; retryable: boolean } };

export const GOOD_HELLO = { protocol_version: 1, wire_mode: 'binary_json', server_name: 'fake', server_version: '0', features: ['wal_read'] };

/**
 * A misbehaving server for fault tests: answers HELLO properly, then hands
 * every other request to `onRequest`, which may answer, stay silent, or write garbage.
 */
export async function fakeServer(
  onRequest: (req: Request, socket: net.Socket, reply: (result: unknown) => void) => void,
  /** The answer to the nth HELLO (1-based, counted over all connections); a proper one by default. */
  hello: (n: number, req: Request) => HelloAnswer = () => ({ result: GOOD_HELLO }),
): Promise<{ port: number; close(): Promise<void>; sockets: Set<net.Socket>; readonly hellos: number }> {
  let hellos = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new FrameDecoder();
    socket.on('data', (chunk) => {
      for (const f of decoder.push(chunk)) {
        const req = parseMessage(f.payload) as unknown as Request;
        const reply = (result: unknown) => socket.write(encodeMessage({ type: 'response', id: req.id, status: 'ok', result }));
        if (req.op === 'HELLO') {
          const answer = hello(++hellos, req);
          socket.write(encodeMessage({ type: 'response', id: req.id, status: 'result' in answer ? 'ok' : 'error', ...answer }));
        } else if (req.op === 'BYE') {
          reply({ goodbye: true });
          socket.end();
        } else {
          onRequest(req, socket, reply);
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    get hellos() {
      return hellos;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
