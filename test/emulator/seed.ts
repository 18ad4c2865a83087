import type { MachineDefinition } from '../../src/rcp/types';

/** Sample machines for the demo and the end-to-end tests. */
export const DEMO_MACHINES: { machine: string; version: number; definition: MachineDefinition }[] = [
  {
    machine: 'order',
    version: 1,
    definition: {
      states: ['created', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'],
      initial: 'created',
      transitions: [
        { from: 'created', event: 'pay', to: 'paid', guard: 'ctx.amount > 0' },
        { from: ['created', 'paid'], event: 'cancel', to: 'cancelled' },
        { from: 'paid', event: 'ship', to: 'shipped', guard: 'ctx.address != null && !ctx.on_hold' },
        { from: 'shipped', event: 'deliver', to: 'delivered' },
        { from: ['paid', 'delivered'], event: 'refund', to: 'refunded', guard: 'ctx.amount <= 500 || ctx.manager_approved == true' },
      ],
      meta: {
        description: 'E-commerce order lifecycle',
        // What payload editors check against (rstmdb keeps meta as sent).
        context_schema: {
          type: 'object',
          required: ['customer', 'amount'],
          properties: {
            customer: { type: 'string', description: 'Customer handle.' },
            amount: { type: 'number', exclusiveMinimum: 0, description: 'Order total; pay needs it above 0.' },
            currency: { enum: ['EUR', 'USD', 'GBP'] },
            items: { type: 'array', items: { type: 'object', required: ['sku', 'qty'], properties: { sku: { type: 'string', pattern: '^SKU-' }, qty: { type: 'integer', minimum: 1 } } } },
            address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'string' } } },
          },
        },
        payload_schemas: {
          pay: { type: 'object', properties: { paid_at: { enum: ['card', 'transfer', 'cash'], description: 'How it was paid.' } } },
          ship: {
            type: 'object',
            required: ['carrier'],
            properties: {
              carrier: { enum: ['DHL', 'UPS', 'DPD', 'Omniva'], description: 'Who carries the parcel.' },
              tracking: { type: 'string', minLength: 6, description: "The carrier's tracking number." },
            },
            additionalProperties: false,
          },
          cancel: { type: 'object', properties: { reason: { type: 'string', minLength: 3 } } },
          refund: { type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 3 }, manager_approved: { type: 'boolean' } } },
        },
      },
    },
  },
  {
    machine: 'approval',
    version: 1,
    definition: {
      states: ['draft', 'submitted', 'approved', 'rejected'],
      initial: 'draft',
      transitions: [
        { from: 'draft', event: 'submit', to: 'submitted', guard: 'ctx.title != null' },
        { from: 'submitted', event: 'approve', to: 'approved', guard: 'ctx.approver != null' },
        { from: 'submitted', event: 'reject', to: 'rejected' },
        { from: 'rejected', event: 'revise', to: 'draft' },
      ],
    },
  },
  {
    machine: 'approval',
    version: 2,
    definition: {
      states: ['draft', 'submitted', 'in_review', 'approved', 'rejected'],
      initial: 'draft',
      transitions: [
        { from: 'draft', event: 'submit', to: 'submitted', guard: 'ctx.title != null' },
        { from: 'submitted', event: 'review', to: 'in_review' },
        { from: 'in_review', event: 'approve', to: 'approved', guard: 'ctx.approver != null && ctx.score >= 3' },
        { from: ['submitted', 'in_review'], event: 'reject', to: 'rejected' },
        { from: 'rejected', event: 'revise', to: 'draft' },
      ],
    },
  },
  {
    machine: 'task',
    version: 1,
    definition: {
      states: ['todo', 'in_progress', 'blocked', 'review', 'done'],
      initial: 'todo',
      transitions: [
        { from: 'todo', event: 'start', to: 'in_progress', guard: 'ctx.assignee != null' },
        { from: 'in_progress', event: 'block', to: 'blocked' },
        { from: 'blocked', event: 'unblock', to: 'in_progress' },
        { from: 'in_progress', event: 'submit', to: 'review' },
        { from: 'review', event: 'request_changes', to: 'in_progress' },
        { from: 'review', event: 'complete', to: 'done' },
      ],
    },
  },
];

export interface SeedOp {
  op: 'PUT_MACHINE' | 'CREATE_INSTANCE' | 'APPLY_EVENT';
  params: Record<string, unknown>;
}

/** Deterministic pseudo-random numbers, so every demo starts from the same data. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CUSTOMERS = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'alan', 'radia'];
const CITIES = ['Vilnius', 'Lisbon', 'Oslo', 'Kraków', 'Porto', 'Tallinn', 'Riga', 'Gdańsk'];
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];

/** Paths through each machine that respect its guards given the contexts made below. */
const PATHS: Record<string, { events: string[]; payload?: Record<string, Record<string, unknown>> }[]> = {
  order: [
    { events: [] },
    { events: ['pay'] },
    { events: ['pay', 'ship'], payload: { pay: { paid_at: 'card' }, ship: { carrier: 'DHL' } } },
    { events: ['pay', 'ship', 'deliver'], payload: { ship: { carrier: 'UPS', tracking: '1Z999AA10123456784' } } },
    { events: ['pay', 'ship', 'deliver'], payload: { ship: { carrier: 'Omniva' } } },
    { events: ['cancel'], payload: { cancel: { reason: 'customer request' } } },
    { events: ['pay', 'refund'], payload: { refund: { reason: 'damaged in transit' } } },
  ],
  'approval@1': [{ events: [] }, { events: ['submit'] }, { events: ['submit', 'approve'] }, { events: ['submit', 'reject'] }],
  'approval@2': [{ events: [] }, { events: ['submit'] }, { events: ['submit', 'review'] }, { events: ['submit', 'review', 'approve'] }, { events: ['submit', 'reject'] }],
  task: [
    { events: [] },
    { events: ['start'] },
    { events: ['start', 'block'], payload: { block: { blocked_by: 'waiting on API keys' } } },
    { events: ['start', 'submit'] },
    { events: ['start', 'submit', 'complete'] },
  ],
};

/**
 * The demo data set as ops (PUT_MACHINE, CREATE_INSTANCE, APPLY_EVENT), so it can
 * be loaded into an emulator directly or into any server through a client.
 */
export function demoSeedOps(instances = 1000): SeedOp[] {
  const rand = prng(7401);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const ops: SeedOp[] = DEMO_MACHINES.map((m) => ({ op: 'PUT_MACHINE', params: { ...m } }));
  const plan: { key: string; machine: string; version: number; share: number }[] = [
    { key: 'order', machine: 'order', version: 1, share: 0.5 },
    { key: 'approval@1', machine: 'approval', version: 1, share: 0.1 },
    { key: 'approval@2', machine: 'approval', version: 2, share: 0.15 },
    { key: 'task', machine: 'task', version: 1, share: 0.25 },
  ];
  for (const p of plan) {
    const count = Math.round(instances * p.share);
    for (let i = 1; i <= count; i++) {
      const id = `${p.machine}-${p.version > 1 ? `v${p.version}-` : ''}${String(i).padStart(4, '0')}`;
      let ctx: Record<string, unknown>;
      if (p.machine === 'order') {
        ctx = {
          customer: pick(CUSTOMERS),
          amount: Math.round(rand() * 90000) / 100 + 5,
          currency: 'EUR',
          items: Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, k) => ({ sku: `SKU-${100 + Math.floor(rand() * 900)}`, qty: 1 + k })),
          address: { city: pick(CITIES), zip: String(10000 + Math.floor(rand() * 89999)) },
        };
      } else if (p.machine === 'approval') {
        ctx = { title: `Expense report #${i}`, requester: pick(PEOPLE), approver: pick(PEOPLE), score: 3 + Math.floor(rand() * 3) };
      } else {
        ctx = { title: `Task ${i}`, assignee: pick(PEOPLE), estimate_h: 1 + Math.floor(rand() * 16), labels: [pick(['bug', 'feature', 'chore'])] };
      }
      ops.push({ op: 'CREATE_INSTANCE', params: { machine: p.machine, version: p.version, instance_id: id, initial_ctx: ctx } });
      const path = pick(PATHS[p.key]);
      for (const event of path.events) {
        ops.push({ op: 'APPLY_EVENT', params: { instance_id: id, event, payload: path.payload?.[event] ?? {} } });
      }
    }
  }
  return ops;
}
