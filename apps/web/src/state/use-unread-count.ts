import { useEffect, useMemo, useState } from 'react';
import { api } from '../api/client';
import type { MailStream } from '../api/stream';
import { readState, useReadVersion } from './read-state';

/** How many of the newest messages are tracked for the unread count. */
const TRACKED = 200;

/**
 * The number of unread messages among the newest ones, whatever the inbox shows: its own
 * unfiltered subscription keeps the set of known ids current.
 */
export function useUnreadCount(stream: MailStream): number {
  const [known, setKnown] = useState<ReadonlySet<string>>(new Set());
  const readVersion = useReadVersion();

  useEffect(() => {
    let active = true;
    let subscription: { close(): void } | null = null;
    // Ids the stream delivers while a (re)load is on its way, to merge into its result.
    let arrivals: string[] | null = null;
    const load = async (): Promise<void> => {
      arrivals = [];
      const page = await api.listMessages({}, { limit: TRACKED }).catch(() => null);
      const arrived = arrivals;
      arrivals = null;
      if (!active || !page) return;
      setKnown(new Set([...page.messages.map((message) => message.id), ...arrived]));
      subscription ??= stream.subscribe({
        since: page.messages[0]?.seq ?? 0,
        onMessage(message) {
          arrivals?.push(message.id);
          setKnown((previous) => new Set(previous).add(message.id));
        },
      });
    };
    void load();
    const unlisten = stream.listen({
      onDeleted: (ids) =>
        setKnown((previous) => {
          const next = new Set(previous);
          ids.forEach((id) => next.delete(id));
          return next;
        }),
      onCleared: () => setKnown(new Set()),
      onReconnected: () => void load(),
    });
    return () => {
      active = false;
      subscription?.close();
      unlisten();
    };
  }, [stream]);

  return useMemo(() => {
    void readVersion;
    let count = 0;
    for (const id of known) if (!readState.isRead(id)) count += 1;
    return count;
  }, [known, readVersion]);
}
