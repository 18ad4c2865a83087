/**
 * Which JSON Schema a payload (or Create Instance's initial context) is edited
 * against, and where it came from. First match wins:
 *   1. the machine definition's `meta.payload_schemas.<EVENT>` (`meta.context_schema` for a new instance);
 *   2. the workspace setting `rstmdb.payloadSchemas`;
 *   3. a schema made from what is known: the current context's keys and types,
 *      and the `ctx.*` paths read by the guards out of the state the instance will be in.
 * No vscode here: the caller reads settings and files.
 */
import type { MachineDefinition } from '../rcp/types';
import { guardFieldsOf, type GuardField } from './guardReads';

export type JsonSchema = Record<string, unknown> | boolean;

export type SchemaSource = 'definition' | 'settings' | 'inferred';

export interface ResolvedSchema {
  schema: JsonSchema;
  source: SchemaSource;
  /** Where it came from, in words for the editor's status line. */
  origin: string;
  /** Sources that were there but could not be used (an unreadable file, a schema that is not an object). */
  problems: string[];
}

/** One entry of `rstmdb.payloadSchemas`. Without `event` it is the initial context's schema. */
export interface PayloadSchemaSetting {
  machine: string;
  version?: number;
  event?: string;
  /** A workspace-relative path to a JSON file, or the schema itself. */
  schema: string | Record<string, unknown> | boolean;
}

export interface SchemaRequest {
  machine: string;
  version: number;
  definition: MachineDefinition;
  /** The event whose payload is edited; undefined for Create Instance's initial context. */
  event?: string;
  /** The instance's context now (undefined when creating). */
  ctx?: unknown;
  /** The state the instance will be in: the transition's target, or the initial state when creating. */
  targetState: string;
  settings: readonly unknown[];
  /** Reads a workspace-relative schema file; throws with a readable message. */
  readSchemaFile(path: string): Promise<unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const isSchema = (v: unknown): v is JsonSchema => isObject(v) || typeof v === 'boolean';

/** The setting's entries that are well formed (the rest are skipped with a problem). */
function settingEntries(raw: readonly unknown[], problems: string[]): PayloadSchemaSetting[] {
  const out: PayloadSchemaSetting[] = [];
  raw.forEach((e, i) => {
    const ok =
      isObject(e) &&
      typeof e.machine === 'string' &&
      (e.version === undefined || typeof e.version === 'number') &&
      (e.event === undefined || typeof e.event === 'string') &&
      (typeof e.schema === 'string' || isSchema(e.schema));
    if (ok) out.push(e as unknown as PayloadSchemaSetting);
    else problems.push(`rstmdb.payloadSchemas[${i}] needs machine, optional version and event, and schema (a path or a schema object)`);
  });
  return out;
}

export async function resolvePayloadSchema(req: SchemaRequest): Promise<ResolvedSchema> {
  const problems: string[] = [];
  const what = req.event === undefined ? 'initial context' : `'${req.event}' payload`;
  const meta = req.definition.meta;
  if (isObject(meta)) {
    if (req.event === undefined) {
      if (meta.context_schema !== undefined) {
        if (isSchema(meta.context_schema)) {
          return { schema: meta.context_schema, source: 'definition', origin: `meta.context_schema of ${req.machine} v${req.version}`, problems };
        }
        problems.push(`meta.context_schema of ${req.machine} v${req.version} is not a JSON Schema (an object)`);
      }
    } else if (isObject(meta.payload_schemas) && meta.payload_schemas[req.event] !== undefined) {
      const s = meta.payload_schemas[req.event];
      if (isSchema(s)) return { schema: s, source: 'definition', origin: `meta.payload_schemas.${req.event} of ${req.machine} v${req.version}`, problems };
      problems.push(`meta.payload_schemas.${req.event} of ${req.machine} v${req.version} is not a JSON Schema (an object)`);
    }
  }
  for (const e of settingEntries(req.settings, problems)) {
    if (e.machine !== req.machine || (e.version !== undefined && e.version !== req.version) || e.event !== req.event) continue;
    if (typeof e.schema !== 'string') return { schema: e.schema, source: 'settings', origin: 'rstmdb.payloadSchemas (inline)', problems };
    try {
      const s = await req.readSchemaFile(e.schema);
      if (isSchema(s)) return { schema: s, source: 'settings', origin: `rstmdb.payloadSchemas: ${e.schema}`, problems };
      problems.push(`${e.schema} (rstmdb.payloadSchemas) is not a JSON Schema (an object)`);
    } catch (err) {
      problems.push(`${e.schema} (rstmdb.payloadSchemas) could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return {
    schema: inferSchema(req.definition, req.targetState, req.ctx),
    source: 'inferred',
    origin: `made from the ${req.ctx === undefined ? '' : 'current context and the '}guards out of '${req.targetState}' (no ${what} schema in the definition or settings)`,
    problems,
  };
}

/** JSON Schema type of a value (undefined for null: any type may replace it). */
function typeOf(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return 'array';
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'object' ? typeof v : undefined;
}

const MAX_DEPTH = 4;

/** A value's schema: its type, and for objects their keys (a few levels deep), so completion offers them. */
function schemaOfValue(v: unknown, depth: number): Record<string, unknown> {
  const type = typeOf(v);
  const out: Record<string, unknown> = type ? { type } : {};
  if (type === 'object' && depth < MAX_DEPTH) {
    const props: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v as object)) props[k] = { ...schemaOfValue(child, depth + 1), description: 'In the current context.' };
    out.properties = props;
  }
  return out;
}

/** The type a guard's comparison expects of its field. */
function typeReadBy(f: GuardField): string | undefined {
  if (f.op === '>' || f.op === '>=' || f.op === '<' || f.op === '<=') return 'number';
  if (f.op && f.value !== null && f.value !== undefined) return typeof f.value;
  return undefined;
}

function readSentence(f: GuardField, guard: string, event: string, from: string): string {
  return `Read by the guard \`${guard}\` of '${event}' out of '${from}'.`;
}

/**
 * An object schema from what is known: the current context's keys with their
 * types, and every `ctx.*` path read by a guard of a transition out of
 * `targetState` (the payload is merged into the context, so it can set them),
 * each described as such. Nothing is required and any key is allowed.
 */
export function inferSchema(definition: MachineDefinition, targetState: string, ctx: unknown): Record<string, unknown> {
  const root: Record<string, unknown> = {
    type: 'object',
    title: `Made from ${ctx === undefined ? '' : 'the current context and '}the guards out of '${targetState}'`,
    properties: isObject(ctx) ? (schemaOfValue(ctx, 0).properties as Record<string, unknown>) : {},
  };
  for (const t of definition.transitions ?? []) {
    const froms = Array.isArray(t.from) ? t.from : [t.from];
    if (!froms.includes(targetState) || !t.guard) continue;
    for (const f of guardFieldsOf(t.guard)) addPath(root, f, readSentence(f, t.guard, t.event, targetState));
  }
  return root;
}

/** Adds `f.path` under `schema.properties`, creating objects on the way, and describes the leaf as read by a guard. */
function addPath(schema: Record<string, unknown>, f: GuardField, sentence: string): void {
  let node = schema;
  f.path.forEach((key, i) => {
    const props = (node.properties ??= {}) as Record<string, Record<string, unknown>>;
    const leaf = i === f.path.length - 1;
    const child = (props[key] ??= leaf ? {} : { type: 'object' });
    if (!leaf) {
      // A key the context holds as something else than an object: the guard reads null through it; leave its type.
      if (child.type === undefined) child.type = 'object';
      node = child;
      return;
    }
    const type = typeReadBy(f);
    if (type && child.type === undefined) child.type = type;
    if (f.op === '==' && f.value !== null && f.value !== undefined) {
      const examples = (child.examples ??= []) as unknown[];
      if (!examples.includes(f.value)) examples.push(f.value);
    }
    const previous = typeof child.description === 'string' ? `${child.description} ` : '';
    if (!previous.includes(sentence)) child.description = `${previous}${sentence}`;
  });
}

