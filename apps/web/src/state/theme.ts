import { useCallback, useSyncExternalStore } from 'react';

/** The theme the user picked; `system` follows `prefers-color-scheme`. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const THEME_KEY = 'mailwright.theme';
const listeners = new Set<() => void>();

function stored(): ThemeChoice {
  const value = localStorage.getItem(THEME_KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** Puts the stored theme on `<html data-theme>`; the CSS variables follow it. */
export function applyStoredTheme(): void {
  const choice = stored();
  if (choice === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
}

function setTheme(choice: ThemeChoice): void {
  if (choice === 'system') localStorage.removeItem(THEME_KEY);
  else localStorage.setItem(THEME_KEY, choice);
  applyStoredTheme();
  listeners.forEach((listener) => listener());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The theme choice and a function that cycles system → light → dark. */
export function useTheme(): [ThemeChoice, () => void] {
  const choice = useSyncExternalStore(subscribe, stored);
  const cycle = useCallback(() => setTheme(choice === 'system' ? 'light' : choice === 'light' ? 'dark' : 'system'), [choice]);
  return [choice, cycle];
}
