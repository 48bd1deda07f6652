import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { QueryResult } from '../../promql/index.js';
import { JsonChunks, respond, respondError } from './envelope.js';
import { toApiChunks, toApiData } from './router.js';

/** FRAGMENT is one 64 KiB JSON string; an answer of them is valid JSON whatever its length. */
const FRAGMENT = `"${'a'.repeat(65_534)}"`;
/** POINTS_PER_FRAGMENT is how many points each fragment stands for in the budget. */
const POINTS_PER_FRAGMENT = 1_000;

/**
 * slowAnswer is an array of `count` fragments whose rendering takes `msPerFragment` each on a fake clock
 * (the answer of a query over millions of points, on a machine as slow as the test needs).
 */
function slowAnswer(count: number, msPerFragment: number, timeLeftMs: number): JsonChunks {
  let clock = 0;
  const chunks: JsonChunks = new JsonChunks(
    function* () {
      yield '[';
      for (let i = 0; i < count; i++) {
        clock += msPerFragment;
        chunks.rendered += POINTS_PER_FRAGMENT;
        yield (i > 0 ? ',' : '') + FRAGMENT;
      }
      yield ']';
    },
    { points: count * POINTS_PER_FRAGMENT, deadline: timeLeftMs, now: () => clock },
  );
  return chunks;
}

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** fetchAnswer serves `data` through respond (failures through respondError, as the router does) and fetches it. */
async function fetchAnswer(data: JsonChunks): Promise<{ status: number; body: string }> {
  const app = express();
  app.get('/', (_req, res) => {
    respond(res, data).catch((err: unknown) => respondError(res, err));
  });
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return { status: res.status, body: await res.text() };
}

describe('respond', () => {
  it('refuses with 503 timeout, before sending anything, an answer whose rest would not be written in time', async () => {
    // The head (4 MiB, 64 fragments) takes 64 ms for 64,000 points; the other 136 fragments' 136,000 points
    // then need 136 ms, twice over for the socket: 64 + 272 ms is past a deadline 200 ms away.
    const res = await fetchAnswer(slowAnswer(200, 1, 200));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      status: 'error',
      errorType: 'timeout',
      error:
        'query timed out in writing the answer: 200000 points cannot be written within the query timeout',
    });
  });

  it('streams the same answer whole when its rest fits before the deadline', async () => {
    const res = await fetchAnswer(slowAnswer(200, 1, 400));
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body) as { status: string; data: string[] };
    expect(body.status).toBe('success');
    expect(body.data).toHaveLength(200);
    expect(body.data.every((s) => s.length === 65_534)).toBe(true);
  });

  it('refuses a small answer whose rendering runs past the deadline', async () => {
    // Ten fragments (640 KiB, under the head's size) at 30 ms each: the deadline passes at the fourth.
    const res = await fetchAnswer(slowAnswer(10, 30, 100));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'error', errorType: 'timeout' });
  });

  it('streams an answer without a budget however long it takes', async () => {
    const unbudgeted = new JsonChunks(slowAnswer(200, 1_000, 0).fragments);
    const res = await fetchAnswer(unbudgeted);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { data: string[] }).data).toHaveLength(200);
  });
});

describe('toApiChunks budget', () => {
  const result: fc.Arbitrary<QueryResult> = fc.oneof(
    fc
      .array(fc.record({ n: fc.integer({ min: 0, max: 40_000 }), server: fc.constantFrom('a', 'b', 'c') }), {
        maxLength: 4,
      })
      .map((xs): QueryResult => ({
        resultType: 'matrix',
        result: xs.map(({ n, server }) => ({
          labels: { server },
          timestamps: Array.from({ length: n }, (_, i) => i * 15_000),
          values: Array.from({ length: n }, (_, i) => i % 7),
        })),
      })),
    fc.array(fc.double(), { maxLength: 50 }).map((vs): QueryResult => ({
      resultType: 'vector',
      result: vs.map((v, i) => ({ labels: { i: String(i) }, t: 1_000, v })),
    })),
  );

  it('counts every point of a vector or matrix answer as it renders them, and renders what toApiData does', () => {
    fc.assert(
      fc.property(result, (r) => {
        const chunks = toApiChunks(r, 1e12);
        const points =
          r.resultType === 'matrix'
            ? r.result.reduce((n, s) => n + s.timestamps.length, 0)
            : r.resultType === 'vector'
              ? r.result.length
              : 0;
        expect(chunks.budget?.points).toBe(points);
        // Every point's JSON ends in `"]` (labels here never hold one): after each fragment the count is
        // exactly the points rendered so far, also inside a series longer than one fragment.
        let text = '';
        let ends = 0;
        for (const f of chunks.fragments()) {
          text += f;
          ends += f.split('"]').length - 1;
          expect(chunks.rendered).toBe(ends);
        }
        expect(chunks.rendered).toBe(points);
        expect(text).toBe(JSON.stringify(toApiData(r)));
      }),
      { numRuns: 60 },
    );
  });
});
