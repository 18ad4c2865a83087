// node:test reporter that writes pass/fail counts of leaf tests to the file
// named by RSTMDB_TEST_SUMMARY, so test/run.mjs can print one closing line
// over the unit and the end-to-end runs.
import { appendFileSync } from 'node:fs';

export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip || event.data.todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else failed++;
  }
  if (process.env.RSTMDB_TEST_SUMMARY) {
    appendFileSync(process.env.RSTMDB_TEST_SUMMARY, JSON.stringify({ passed, failed, skipped }) + '\n');
  }
  yield '';
}
