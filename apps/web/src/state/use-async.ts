import { useEffect, useState } from 'react';
import type { MailwrightError } from '@mailwright/core';
import { asApiError } from '../api/client';

/** The state of a request. */
export type AsyncState<T> = { status: 'loading' } | { status: 'ready'; value: T } | { status: 'error'; error: MailwrightError };

/** Runs `load` whenever `key` changes and keeps the latest answer. */
export function useAsync<T>(key: string, load: () => Promise<T>): AsyncState<T> {
  const [state, setState] = useState<{ key: string; state: AsyncState<T> }>({ key, state: { status: 'loading' } });
  useEffect(() => {
    let active = true;
    setState({ key, state: { status: 'loading' } });
    load().then(
      (value) => active && setState({ key, state: { status: 'ready', value } }),
      (error: unknown) => active && setState({ key, state: { status: 'error', error: asApiError(error) } }),
    );
    return () => {
      active = false;
    };
    // `load` is expected to change with `key` only.
  }, [key]);
  return state.key === key ? state.state : { status: 'loading' };
}
