import { useEffect, useRef, useState } from 'react';
import type { MessageFilter } from '@mailwright/core';
import { formatSearch, parseSearch } from '../lib/search-query';
import { Search } from './icons';

const TYPING_DELAY_MS = 250;

const TLS_OPTIONS = [
  ['', 'Any delivery'],
  ['any', 'Over TLS'],
  ['starttls', 'STARTTLS'],
  ['implicit', 'Implicit TLS'],
  ['none', 'Plaintext'],
] as const;

/**
 * The inbox search: one line with `to:`, `from:`, `subject:` and free text (which searches
 * `text`), and a delivery picker for `tls` — the filter fields of the API.
 */
export function SearchBar({ filter, onChange }: { filter: MessageFilter; onChange(filter: MessageFilter): void }) {
  const [line, setLine] = useState(() => formatSearch(filter));
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);

  // Follow the address (back and forward) unless it already says what the user typed.
  const lineOfFilter = formatSearch(filter);
  useEffect(() => {
    setLine((current) => (formatSearch(parseSearch(current)) === lineOfFilter ? current : lineOfFilter));
  }, [lineOfFilter]);

  useEffect(() => () => clearTimeout(timer.current), []);

  const apply = (next: string): void => {
    clearTimeout(timer.current);
    onChange({ ...(filter.tls ? { tls: filter.tls } : {}), ...parseSearch(next) });
  };

  return (
    <form
      className="search-bar"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        apply(line);
      }}
    >
      <label className="search-field">
        <Search />
        <span className="visually-hidden">Search</span>
        <input
          id="search"
          type="search"
          name="q"
          data-testid="search-input"
          value={line}
          placeholder="Search   to:  from:  subject:  or any text"
          autoComplete="off"
          spellCheck={false}
          onChange={(event) => {
            const next = event.target.value;
            setLine(next);
            clearTimeout(timer.current);
            timer.current = setTimeout(() => apply(next), TYPING_DELAY_MS);
          }}
          onKeyDown={(event) => {
            if (event.key === 'Escape') {
              event.currentTarget.blur();
            }
          }}
        />
      </label>
      <label className="tls-filter">
        <span className="visually-hidden">Delivery</span>
        <select
          data-testid="tls-filter"
          value={filter.tls ?? ''}
          onChange={(event) => {
            const { tls: _previous, ...rest } = parseSearch(line);
            const tls = event.target.value as MessageFilter['tls'] | '';
            onChange(tls ? { ...rest, tls } : rest);
          }}
        >
          {TLS_OPTIONS.map(([value, text]) => (
            <option key={value} value={value}>
              {text}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}
