/**
 * The one way text from outside (server names, states, events, guards,
 * instance ids, error messages, connection settings) goes into a tooltip's
 * MarkdownString. Every ASCII punctuation character is backslash-escaped
 * (CommonMark lets any of them be), so no link, image, emphasis, table cell,
 * HTML or `$(icon)` can be made from a value; line breaks become spaces, so a
 * value cannot start a heading or a list either. No code spans: inside one a
 * backslash would show.
 */
export function escapeMarkdown(text: unknown): string {
  return String(text)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}
