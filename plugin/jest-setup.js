// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';
import { configure } from '@testing-library/react';

// Up to 8 helpers' builds share 2 cores: give findBy*/waitFor a bound that load cannot hit, instead of 1 s.
configure({ asyncUtilTimeout: 10_000 });

// jsdom has no canvas; @grafana/ui measures text with one (Combobox widths, BigValue). A fixed-width font
// metric is enough for layout code that only needs a number.
HTMLCanvasElement.prototype.getContext = function getContext() {
  return { measureText: (text) => ({ width: String(text).length * 7 }), font: '' };
};

// jsdom has no IntersectionObserver; @grafana/scenes' lazy loader creates one when its module loads.
if (typeof global.IntersectionObserver === 'undefined') {
  global.IntersectionObserver = class IntersectionObserver {
    observe() {}
    unobserve() {}
    disconnect() {}
    takeRecords() {
      return [];
    }
  };
}
