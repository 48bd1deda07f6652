/**
 * Remote-write bodies for the fuzzer: valid WriteRequests (encoded with the exporter's own
 * `encodeWriteRequest`, then snappy block compressed) over series named `fuzz_*`, the same with bytes
 * flipped, cut or inserted before or after compression, random bytes with and without snappy around them,
 * snappy headers that declare gigabytes, and requests that are valid but large; with right and wrong
 * Content-Type, Content-Encoding and protocol-version headers.
 */
import fc from 'fast-check';
import { compressSync } from 'snappy';
import { encodeWriteRequest, type WriteRequestInput } from '../../src/api/remote-write-proto.js';
import type { BodySpec } from './model.js';
import { FUZZ_METRIC_PREFIX, type Vocabulary } from './vocabulary.js';

/** snappyCompress compresses a body in snappy's block format, as remote-write senders do (native snappy). */
export function snappyCompress(raw: Uint8Array): Uint8Array {
  return compressSync(Buffer.from(raw));
}

const base64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** bigWriteRequest is a valid request of `series` series × `samples` samples each, uncompressed. */
export function bigWriteRequest(series: number, samples: number, nowMs: number): Uint8Array {
  const request: WriteRequestInput = {
    timeseries: Array.from({ length: series }, (_, i) => ({
      labels: [
        { name: '__name__', value: `${FUZZ_METRIC_PREFIX}big` },
        { name: 'i', value: String(i) },
      ],
      samples: Array.from({ length: samples }, (_, j) => ({
        value: i + j,
        timestamp: nowMs - (samples - j) * 1000,
      })),
    })),
  };
  return encodeWriteRequest(request);
}

/** HeaderSet is the headers of one remote-write request. */
type HeaderSet = Record<string, string>;

/** remoteWriteArbitraries builds the body and header generators around `nowMs`. */
export function remoteWriteArbitraries(
  v: Vocabulary,
  nowMs: number,
): { readonly body: fc.Arbitrary<BodySpec>; readonly headers: fc.Arbitrary<HeaderSet> } {
  const name = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...v.metrics).map((m) => FUZZ_METRIC_PREFIX + m) },
    { weight: 1, arbitrary: fc.constantFrom(`${FUZZ_METRIC_PREFIX}1bad-name`, '', `${FUZZ_METRIC_PREFIX}ü`) },
  );
  const labelName = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...v.labelNames, 'job', 'instance') },
    { weight: 1, arbitrary: fc.constantFrom('', '1abc', 'a-b', '__name__', 'ü', '__reserved') },
  );
  const labelValue = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...v.servers, ...[...v.labelValues.values()].flat()) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: fc.constant('') },
    // Long runs of one letter: what a backtracking regex matcher (`=~"(a+)+$"`) chokes on at query time.
    { weight: 2, arbitrary: fc.integer({ min: 10, max: 5_000 }).map((n) => 'a'.repeat(n)) },
  );
  const timestamp = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: nowMs - 3_600_000, max: nowMs + 60_000 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        0,
        -1,
        1,
        2 ** 53 - 1,
        -(2 ** 53) + 1,
        8.64e15,
        -8.64e15,
        nowMs + 10 * 365 * 86_400_000,
      ),
    },
  );
  const value = fc.oneof(
    { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, Number.MAX_VALUE, Number.MIN_VALUE),
    },
  );
  const samples = fc.oneof(
    { weight: 6, arbitrary: fc.array(fc.record({ value, timestamp }), { maxLength: 10 }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: nowMs - 3_600_000, max: nowMs }), value)
        .map(([n, t0, x]) =>
          Array.from({ length: n }, (_, i) => ({ value: x + i, timestamp: t0 + i * 1000 })),
        ),
    },
  );
  const series = fc
    .tuple(
      name,
      fc.array(fc.record({ name: labelName, value: labelValue }), { maxLength: 6 }),
      samples,
      fc.boolean(),
    )
    .map(([n, labels, ss, nameFirst]) => ({
      labels: nameFirst
        ? [{ name: '__name__', value: n }, ...labels]
        : [...labels, { name: '__name__', value: n }],
      samples: ss,
    }));
  const request = fc
    .array(series, { maxLength: 20 })
    .map((timeseries): Uint8Array => encodeWriteRequest({ timeseries }));
  const mutate = (bytes: Uint8Array): fc.Arbitrary<Uint8Array> =>
    fc.oneof(
      fc
        .array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
        .map((flips) => {
          const out = Uint8Array.from(bytes);
          if (out.length > 0) for (const [at, b] of flips) out[at % out.length] = b;
          return out;
        }),
      fc.nat().map((at) => bytes.slice(0, bytes.length === 0 ? 0 : at % bytes.length)),
      fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, ins]) => {
        const i = bytes.length === 0 ? 0 : at % bytes.length;
        return Uint8Array.from([...bytes.slice(0, i), ...ins, ...bytes.slice(i)]);
      }),
    );
  // A snappy preamble declaring a huge uncompressed length (varint), then a few literal bytes.
  const lyingHeader = fc
    .tuple(
      fc.constantFrom(0x7fffffff, 0xffffffff, 64 * 1024 * 1024 + 1, 1e6),
      fc.uint8Array({ maxLength: 32 }),
    )
    .map(([declared, rest]) => {
      const varint: number[] = [];
      let n = declared;
      while (n >= 0x80) {
        varint.push((n % 0x80) | 0x80);
        n = Math.floor(n / 0x80);
      }
      varint.push(n);
      return Uint8Array.from([...varint, ...rest]);
    });
  const body: fc.Arbitrary<BodySpec> = fc.oneof(
    { weight: 8, arbitrary: request.map((r) => ({ base64: base64(snappyCompress(r)) })) },
    { weight: 3, arbitrary: request.chain(mutate).map((r) => ({ base64: base64(snappyCompress(r)) })) },
    {
      weight: 3,
      arbitrary: request
        .map(snappyCompress)
        .chain(mutate)
        .map((b) => ({ base64: base64(b) })),
    },
    { weight: 1, arbitrary: request.map((r) => ({ base64: base64(r) })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((b) => ({ base64: base64(b) })) },
    {
      weight: 2,
      arbitrary: fc.uint8Array({ maxLength: 2_000 }).map((b) => ({ base64: base64(snappyCompress(b)) })),
    },
    { weight: 1, arbitrary: lyingHeader.map((b) => ({ base64: base64(b) })) },
    { weight: 1, arbitrary: fc.constant({ text: '' }) },
    { weight: 1, arbitrary: fc.constantFrom('{}', '[]', 'null', '"x"').map((text) => ({ text })) },
    {
      weight: 1,
      // Valid but large: up to a million samples (~10 MB compressed, under the 16 MiB body limit).
      arbitrary: fc
        .constantFrom([1_000, 100], [10_000, 10], [10_000, 100], [50_000, 1], [50_000, 10])
        .map(([s, n]) => ({ rwBig: { series: s, samples: n } })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(16 * 1024 * 1024 + 1, 20 * 1024 * 1024)
        .map((length) => ({ fill: { byte: 0, length } })),
    },
  );
  const headers = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constant({
        'Content-Type': 'application/x-protobuf',
        'Content-Encoding': 'snappy',
        'X-Prometheus-Remote-Write-Version': '0.1.0',
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record(
        {
          'Content-Type': fc.constantFrom(
            'application/x-protobuf',
            'application/x-protobuf;proto=io.prometheus.write.v2.Request',
            'application/x-protobuf; proto=prometheus.WriteRequest',
            'application/json',
            'application/x-www-form-urlencoded',
            'text/plain',
            'multipart/form-data; boundary=x',
            '',
          ),
          'Content-Encoding': fc.constantFrom(
            'snappy',
            'SNAPPY',
            'gzip',
            'identity',
            'deflate',
            'br',
            'snappy, gzip',
            '',
          ),
          'X-Prometheus-Remote-Write-Version': fc.constantFrom('0.1.0', '2.0.0', 'x'),
        },
        { requiredKeys: [] },
      ),
    },
  );
  return { body, headers };
}
