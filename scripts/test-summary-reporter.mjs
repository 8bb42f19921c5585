// A node:test reporter that writes only the run's closing counts (tests, pass, fail, ...,
// duration_ms) as one JSON line, so scripts/run-tests.mjs can add up the counts of its two lanes.
export default async function* summary(source) {
  const counts = {};
  for await (const event of source) {
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue;
    const match = /^(\w+) ([\d.]+)$/.exec(event.data.message);
    if (match) counts[match[1]] = Number(match[2]);
  }
  yield `${JSON.stringify(counts)}\n`;
}
