// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';
import { configure } from '@testing-library/react';

// Up to 8 helpers' builds share 2 cores: give findBy*/waitFor a bound that load cannot hit, instead of 1 s.
configure({ asyncUtilTimeout: 10_000 });
