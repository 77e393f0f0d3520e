import { createContext, useContext, useEffect, useState } from 'react';
import type { MailStream, StreamStatus } from '../api/stream';

/** The page's one stream connection. */
export const StreamContext = createContext<MailStream | null>(null);

/** The stream of the page (from {@link StreamContext}). */
export function useStream(): MailStream {
  const stream = useContext(StreamContext);
  if (!stream) throw new Error('useStream() outside <StreamContext>');
  return stream;
}

/** The connection status of the stream, kept current. */
export function useStreamStatus(): StreamStatus {
  const stream = useStream();
  const [status, setStatus] = useState(stream.status());
  useEffect(() => {
    setStatus(stream.status());
    return stream.listen({ onStatus: setStatus });
  }, [stream]);
  return status;
}
