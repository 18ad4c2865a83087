import { parseGuard, resolve, type CompareOp, type GuardAst, type GuardLiteral } from '../rcp/guard';

/** One field a guard reads, with the comparison it is read for (none when tested for truthiness). */
export interface GuardField {
  /** `ctx.a.b`, as written in the guard. */
  field: string;
  /** `['a', 'b']`. */
  path: string[];
  op?: CompareOp;
  value?: GuardLiteral;
}

/** Every field a parsed guard reads, in the order written; a field read twice is listed once per read. */
export function guardFields(ast: GuardAst): GuardField[] {
  switch (ast.kind) {
    case 'field':
      return [{ field: `ctx.${ast.path.join('.')}`, path: ast.path }];
    case 'compare':
      return [{ field: `ctx.${ast.path.join('.')}`, path: ast.path, op: ast.op, value: ast.value }];
    case 'not':
      return guardFields(ast.operand);
    case 'and':
    case 'or':
      return [...guardFields(ast.left), ...guardFields(ast.right)];
  }
}

/** The fields of a guard source; [] when it does not parse (the caller says so elsewhere). */
export function guardFieldsOf(guard: string | null | undefined): GuardField[] {
  if (!guard) return [];
  try {
    return guardFields(parseGuard(guard));
  } catch {
    return [];
  }
}

/**
 * What a guard reads on a context, for a message: `ctx.amount = 711.38, ctx.tier = null`.
 * Each field once; a missing field reads as null, as on the server.
 */
export function describeGuardReads(guard: string, ctx: unknown): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const f of guardFieldsOf(guard)) {
    if (seen.has(f.field)) continue;
    seen.add(f.field);
    const v = resolve(ctx, f.path);
    const shown = JSON.stringify(v) ?? 'null';
    parts.push(`${f.field} = ${shown.length > 60 ? `${shown.slice(0, 59)}…` : shown}`);
  }
  return parts.join(', ');
}
