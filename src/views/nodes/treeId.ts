/**
 * A tree row's id from its kind and the names that place it. Each name is
 * JSON-quoted, so names containing the separator cannot make two rows one:
 * connection "a:b" with machine "c" and connection "a" with machine "b:c"
 * stay apart (VS Code refuses a tree with two rows of one id).
 */
export function treeId(kind: string, ...names: readonly (string | number)[]): string {
  return `${kind}:${JSON.stringify(names)}`;
}
