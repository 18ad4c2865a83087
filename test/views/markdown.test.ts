import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeMarkdown } from '../../src/views/markdown';

test('server strings in tooltips cannot make links, images, HTML, icons, table cells or headings', () => {
  const hostile = '[click](command:rstmdb.removeConnection) ![x](https://e.vil/x.png) <img src=x> $(zap) a|b `code` **bold**\n# heading';
  const escaped = escapeMarkdown(hostile);
  // Every punctuation character is escaped, so a Markdown renderer shows the text as written.
  assert.doesNotMatch(escaped, /(^|[^\\])[[\]()!<>$|`*#]/);
  assert.ok(!escaped.includes('\n'), 'one line: no block can start');
  assert.equal(escaped.replace(/\\(.)/g, '$1'), hostile.replace('\n', ' '));
  assert.equal(escapeMarkdown('order_v2'), 'order\\_v2');
  assert.equal(escapeMarkdown(1099511628160), '1099511628160');
});
