/**
 * Prometheus's staleness marker: a NaN with payload 2 (`value.StaleNaN`, 0x7ff0000000000002) that ends a
 * series at a timestamp (a target gone, a server down). The one definition the exporter has: the store keeps
 * it bit-exactly, the PromQL engine skips it, remote write carries it.
 */

/** STALE_NAN_BITS_HI/LO are the two 32-bit halves of Prometheus's staleness marker 0x7ff0000000000002. */
const STALE_NAN_BITS_HI = 0x7ff00000;
const STALE_NAN_BITS_LO = 0x00000002;

const staleBuf = new DataView(new ArrayBuffer(8));

/** STALE_NAN is the staleness-marker float (a NaN with payload 2, Prometheus's `value.StaleNaN`). */
export const STALE_NAN: number = (() => {
  staleBuf.setUint32(0, STALE_NAN_BITS_HI);
  staleBuf.setUint32(4, STALE_NAN_BITS_LO);
  return staleBuf.getFloat64(0);
})();

/**
 * isStaleNaN reports whether `v` is the staleness marker. V8 keeps NaN payloads through Float64Array
 * stores and loads, so the marker survives storage round trips as long as it stays in typed arrays.
 */
export function isStaleNaN(v: number): boolean {
  if (!Number.isNaN(v)) return false;
  staleBuf.setFloat64(0, v);
  return staleBuf.getUint32(0) === STALE_NAN_BITS_HI && staleBuf.getUint32(4) === STALE_NAN_BITS_LO;
}
