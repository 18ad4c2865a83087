import { evaluateGuard, GuardSyntaxError, readGuard } from '../rcp/guard';

/**
 * What a context that is not a JSON object is, in words; undefined for an object.
 * The server merges a payload only into an object context (rcp-notes: a ctx
 * created without `initial_ctx` stays null forever), so for anything else the
 * payload of every event is ignored and guards read every field as null.
 */
export function unmergeableContext(ctx: unknown): string | undefined {
  if (ctx === null || ctx === undefined) return 'null';
  if (Array.isArray(ctx)) return 'an array';
  if (typeof ctx !== 'object') return `a ${typeof ctx}`;
  return undefined;
}

/** One sentence for the user about a context payloads are not merged into; undefined for an object context. */
export function unmergeableContextNote(ctx: unknown): string | undefined {
  const what = unmergeableContext(ctx);
  // Most important first: a quick pick's placeholder is cut to its width.
  return what && `The context is ${what}: payloads will not be merged into it, and guards read every field as null.`;
}

/**
 * The preview of one transition's guard on an instance's current context, as
 * Apply Event lists it. Guards are evaluated before the payload is merged, so
 * the preview is what the server will decide.
 */
export function guardPreview(guard: string | null | undefined, ctx: unknown): string {
  if (guard === undefined || guard === null) return 'no guard';
  let passes: boolean;
  let ignored = '';
  try {
    ignored = readGuard(guard).ignored;
    passes = evaluateGuard(guard, ctx);
  } catch (err) {
    return `guard ${guard} — cannot be evaluated: ${err instanceof GuardSyntaxError ? err.message : String(err)}`;
  }
  const what = unmergeableContext(ctx);
  // Short enough for a quick pick's detail line.
  const verdict = what
    ? `${passes ? '$(pass) passes' : '$(error) fails'} on ${what === 'null' ? 'the null context' : `the context, which is ${what}`} (payloads are not merged)`
    : passes
      ? '$(pass) passes on the current context'
      : '$(error) fails on the current context (payload merged after)';
  return `guard ${guard} — ${verdict}${ignored ? ` — the server ignores \`${ignored}\`` : ''}`;
}

/** Apply Event's warning that the payload typed will change nothing; undefined for an object context. */
export function payloadIgnoredNote(ctx: unknown): string | undefined {
  const what = unmergeableContext(ctx);
  return what && `The payload will be ignored: this instance's context is ${what}, and the server merges payloads only into an object.`;
}
