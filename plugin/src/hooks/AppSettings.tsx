/**
 * The app's settings (jsonData) as a React context, so hooks find the live URL without prop drilling.
 */
import React, { createContext, useContext, type ReactNode } from 'react';

import type { AppJsonData } from '../types';

const AppSettingsContext = createContext<AppJsonData>({});

/** AppSettingsProvider makes the app's jsonData available to the hooks below it. */
export function AppSettingsProvider({ value, children }: { value: AppJsonData; children: ReactNode }) {
  return <AppSettingsContext.Provider value={value}>{children}</AppSettingsContext.Provider>;
}

/** useAppSettings returns the app's jsonData. */
export function useAppSettings(): AppJsonData {
  return useContext(AppSettingsContext);
}
