/**
 * clusterSlot computes a key's Redis Cluster hash slot: CRC16 (XMODEM) of the key, or of its hash tag — the
 * part between the first `{` and the next `}` when that is non-empty — modulo 16384, as the Redis Cluster
 * specification defines it (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/).
 */

/** CLUSTER_SLOTS is the number of hash slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
    t[i] = c & 0xffff;
  }
  return t;
})();

/** crc16 is CRC-16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ (TABLE[((crc >> 8) ^ b) & 0xff] ?? 0)) & 0xffff;
  return crc;
}

/** clusterSlot returns the hash slot of `key`. */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key, 'utf8')) % CLUSTER_SLOTS;
}
