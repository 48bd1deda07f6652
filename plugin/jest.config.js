// Force the timezone to UTC so time formatting in tests does not depend on the machine.
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

// The scaffold's swc transform, reused for `.mjs` files: d3-color 3.1.1 (pulled in by @grafana/data) ships
// only ES modules with the `.mjs` extension, which the scaffold's `(t|j)sx?` pattern does not cover.
const swcTransform = base.transform['^.+\\.(t|j)sx?$'];

module.exports = {
  ...base,
  transform: { ...base.transform, '^.+\\.mjs$': swcTransform },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // A bound, not a target: page tests render @grafana/ui on shared, loaded cores.
  testTimeout: 30_000,
};
