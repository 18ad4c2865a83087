import { GuardSyntaxError, readGuard, type GuardAst } from '../rcp/guard';

/** What a guard reads and how the server groups it, for a hover. */
export type GuardSummary =
  | {
      ok: true;
      /** The `ctx.…` paths it reads, in order of first use. */
      paths: string[];
      /** The operators it uses, in order of first use. */
      operators: string[];
      /** The expression with every group in parentheses, as the server reads it. */
      grouped: string;
      /** The tail the server ignores without an error ('' when none). */
      ignored: string;
    }
  | { ok: false; error: string; position: number };

const literal = (v: unknown) => (typeof v === 'string' ? `"${v}"` : String(v));

function walk(ast: GuardAst, paths: string[], operators: string[], top: boolean): string {
  const add = (list: string[], item: string) => list.includes(item) || list.push(item);
  switch (ast.kind) {
    case 'field':
      add(paths, `ctx.${ast.field}`);
      return `ctx.${ast.field}`;
    case 'compare':
      add(paths, `ctx.${ast.field}`);
      add(operators, ast.op);
      return `ctx.${ast.field} ${ast.op} ${literal(ast.value)}`;
    case 'not': {
      add(operators, '!');
      const inner = walk(ast.operand, paths, operators, false);
      return ast.operand.kind === 'field' ? `!${inner}` : `!(${inner.replace(/^\((.*)\)$/s, '$1')})`;
    }
    case 'and':
    case 'or': {
      const op = ast.kind === 'and' ? '&&' : '||';
      const left = walk(ast.left, paths, operators, false);
      add(operators, op);
      const right = walk(ast.right, paths, operators, false);
      const text = `${left} ${op} ${right}`;
      return top ? text : `(${text})`;
    }
  }
}

/** Reads a guard as the server does and says what it reads; never throws. */
export function summarizeGuard(source: string): GuardSummary {
  try {
    const { ast, ignored } = readGuard(source);
    const paths: string[] = [];
    const operators: string[] = [];
    const grouped = walk(ast, paths, operators, true);
    return { ok: true, paths, operators, grouped, ignored };
  } catch (err) {
    if (err instanceof GuardSyntaxError) return { ok: false, error: err.message, position: err.position };
    return { ok: false, error: String(err), position: 0 };
  }
}
