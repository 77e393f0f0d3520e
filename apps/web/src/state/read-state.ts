import { useSyncExternalStore } from 'react';

const READ_KEY = 'mailwright.read';
/** Ids beyond this are forgotten oldest first; the server's retention drops old mail anyway. */
const MAX_READ_IDS = 5000;

let ids: string[] = load();
let set = new Set(ids);
let version = 0;
const listeners = new Set<() => void>();

function load(): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(READ_KEY) ?? '[]');
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

function changed(persist: boolean): void {
  if (persist) localStorage.setItem(READ_KEY, JSON.stringify(ids));
  version += 1;
  listeners.forEach((listener) => listener());
}

// Another tab of the viewer read something.
window.addEventListener('storage', (event) => {
  if (event.key !== READ_KEY) return;
  ids = load();
  set = new Set(ids);
  changed(false);
});

/** Which messages this browser has opened. Kept in localStorage, shared by every tab. */
export const readState = {
  isRead: (id: string): boolean => set.has(id),

  markRead(...newIds: string[]): void {
    const fresh = newIds.filter((id) => !set.has(id));
    if (fresh.length === 0) return;
    ids = [...ids, ...fresh].slice(-MAX_READ_IDS);
    set = new Set(ids);
    changed(true);
  },

  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

/** Re-renders when the read state changes; returns a version number to depend on. */
export function useReadVersion(): number {
  return useSyncExternalStore(readState.subscribe, () => version);
}
