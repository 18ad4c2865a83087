/**
 * Simulated application traffic for the demo: a client that now and then
 * moves a random instance along a transition its guard allows, and creates a
 * new order, so the explorer visibly changes while you look at it.
 */
import { RcpClient, RcpError } from '../../src/rcp';
import { evaluateGuard } from '../../src/rcp/guard';
import type { MachineDefinition } from '../../src/rcp/types';

export interface Activity {
  stop(): Promise<void>;
}

const CUSTOMERS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara'];

export async function startActivity(host: string, port: number, opts: { everyMs?: number; createEvery?: number } = {}): Promise<Activity> {
  const client = await RcpClient.connect({ host, port, clientName: 'rstmdb-demo-activity', reconnect: { enabled: true, initialDelayMs: 250, maxDelayMs: 2000, maxAttempts: Infinity } });
  const definitions = new Map<string, MachineDefinition>();
  const definition = async (machine: string, version: number) => {
    const key = `${machine}@${version}`;
    let d = definitions.get(key);
    if (!d) definitions.set(key, (d = (await client.getMachine({ machine, version })).definition));
    return d;
  };
  let tick = 0;
  let created = 0;
  let stopped = false;

  const step = async () => {
    tick++;
    if (tick % (opts.createEvery ?? 8) === 0) {
      created++;
      await client.createInstance({
        machine: 'order',
        version: 1,
        instance_id: `order-live-${Date.now().toString(36)}-${created}`,
        initial_ctx: { customer: CUSTOMERS[created % CUSTOMERS.length], amount: 10 + (created % 40) * 7, currency: 'EUR' },
      });
      return;
    }
    const { total } = await client.listInstances({ limit: 1 });
    if (!total) return;
    // A few tries to land on an instance that has somewhere to go.
    for (let attempt = 0; attempt < 5; attempt++) {
      const { instances } = await client.listInstances({ limit: 1, offset: Math.floor(Math.random() * total) });
      const summary = instances[0];
      if (!summary) continue;
      const inst = await client.getInstance({ instance_id: summary.id });
      const def = await definition(inst.machine, inst.version);
      const options = def.transitions.filter((t) => t.from.includes(inst.state) && (!t.guard || evaluateGuard(t.guard, inst.ctx)));
      if (!options.length) continue;
      const t = options[Math.floor(Math.random() * options.length)];
      await client.applyEvent({ instance_id: summary.id, event: t.event, payload: { [`${t.event}_at`]: new Date().toISOString() }, expected_state: inst.state });
      return;
    }
  };

  const loop = async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 1500));
      if (stopped) break;
      try {
        await step();
      } catch (err) {
        // Another client got there first (CONFLICT) or the server is away: try again next tick.
        if (!(err instanceof RcpError) && client.state === 'closed') break;
      }
    }
  };
  const running = loop();
  return {
    stop: async () => {
      stopped = true;
      await running;
      await client.close();
    },
  };
}
