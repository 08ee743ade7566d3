/**
 * Fuzzing every endpoint at full size (issue 12): `test/fuzz.ts`'s random and hostile requests — wrong types,
 * huge strings and arrays within and past the 1 MiB body limit, nesting past 32 levels, `__proto__` and
 * `constructor.prototype` keys, bytes that are not UTF-8, lone surrogates, numbers JSON.parse reads as
 * Infinity, hostile path and query encodings — to every route of `ROUTE_ACCESS`, at least 100,000 of them,
 * with known-valid canary events and items mixed into batches. Checked as in `test/fuzz.test.ts` (which runs
 * the same at a reduced count in `npm test`): no 5xx, no uncaught exception or unhandled rejection, every 4xx
 * in the error shape with a message naming the problem, no 2xx to a request known to be hostile, nothing
 * invalid in the store afterwards, every canary intact.
 *
 * In process: requests go through the real Fastify app and engine with `app.inject` (no socket), on a
 * durable SQLite store in a temp dir (WAL, synchronous=FULL), 4 in flight, with an admin key.
 *
 *   node --import tsx bench/fuzz.ts [--requests 100000] [--seed N]
 *
 * stdout: one JSON line (counts per route and per status, elapsed time, violations); exits 1 on any violation.
 */
import { openFuzzTarget, runFuzz } from '../test/fuzz.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const REQUESTS = option('--requests', 100_000);
const SEED = option('--seed', 12);

const target = await openFuzzTarget();
let report;
try {
  report = await runFuzz(target, {
    seed: SEED,
    requests: REQUESTS,
    minPerRoute: 100,
    progressEvery: 10_000,
    onProgress: (done) => process.stderr.write(`fuzz: ${done} requests\n`),
  });
} finally {
  await target.close();
}

const sorted = (counts: Record<string, number>) =>
  Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
process.stdout.write(
  `${JSON.stringify({
    bench: 'fuzz',
    in_process: true,
    seed: report.seed,
    requests: report.requests,
    routes: Object.keys(report.perRoute).length,
    elapsed_s: Math.round(report.elapsedMs / 100) / 10,
    requests_per_s: Math.round((report.requests / report.elapsedMs) * 1000),
    hostile: report.hostile,
    hostile_refused: report.refused,
    canary_events: report.canaryEvents,
    canary_items: report.canaryItems,
    background_errors: report.backgroundErrors,
    per_status: sorted(report.perStatus),
    per_route: sorted(report.perRoute),
    violations: report.violations,
  })}\n`,
);
if (report.violations.length > 0) process.exit(1);
