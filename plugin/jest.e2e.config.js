// Browser-harness and dashboard tests: they start a real exporter (and Chromium), so they run in node, one file
// at a time, apart from the unit tests (`npm run test:e2e`, part of `npm test`).
const base = require('./jest.config');

module.exports = {
  transform: base.transform,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/harness/**/*.e2e.test.ts'],
  testTimeout: 240_000,
  maxWorkers: 1,
};
