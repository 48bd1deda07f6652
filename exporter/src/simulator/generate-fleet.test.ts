import { describe, expect, it } from 'vitest';
import { generateFleet, ROLE_MIX, roleCounts } from './generate-fleet.js';
import type { ServerRole } from './types.js';

const count = (servers: { role: ServerRole }[]) =>
  servers.reduce<Partial<Record<ServerRole, number>>>(
    (a, s) => ({ ...a, [s.role]: (a[s.role] ?? 0) + 1 }),
    {},
  );

describe('generateFleet', () => {
  it('keeps the default role mix at 20, 1,000 and 10,000 servers', () => {
    expect(count(generateFleet(20))).toEqual(ROLE_MIX);
    for (const n of [1000, 10_000]) {
      const fleet = generateFleet(n);
      expect(fleet).toHaveLength(n);
      const c = count(fleet);
      for (const [role, share] of Object.entries(ROLE_MIX))
        expect(c[role as ServerRole]).toBe((n * share) / 20);
      expect(new Set(fleet.map((s) => s.id)).size).toBe(n);
    }
  });

  it.each([1, 2, 5, 6, 7, 13, 21, 999])('splits %d servers exactly, every role present from 6 on', (n) => {
    const c = roleCounts(n);
    expect(Object.values(c).reduce((a, b) => a + b, 0)).toBe(n);
    if (n >= 6) expect(Object.values(c).every((x) => x >= 1)).toBe(true);
  });

  it('is deterministic per seed and varies hardware across seeds', () => {
    expect(generateFleet(200, 5)).toEqual(generateFleet(200, 5));
    expect(generateFleet(200, 5)).not.toEqual(generateFleet(200, 6));
  });

  it('pads ids to the role count and gives every server disks, interfaces and services', () => {
    const fleet = generateFleet(1000);
    expect(fleet[0]?.id).toBe('lb-001');
    expect(fleet.find((s) => s.role === 'web')?.id).toBe('web-001');
    for (const s of fleet) {
      expect(s.disks.length).toBeGreaterThan(0);
      expect(s.interfaces.length).toBeGreaterThan(0);
      expect(s.services.length).toBeGreaterThan(0);
    }
  });
});
