import type { ReactNode } from 'react';

/** A labelled group of facts (a `<dl>`). */
export function Facts({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="facts">
      <h3>{title}</h3>
      <dl>{children}</dl>
    </section>
  );
}

/** One fact; `testId` marks the value for tests. A null value shows as a dash. */
export function Fact({ label, value, testId, mono = false }: { label: string; value: ReactNode; testId?: string; mono?: boolean }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd data-testid={testId} className={mono ? 'mono' : undefined}>
        {value === null || value === undefined || value === '' ? <span className="muted">—</span> : value}
      </dd>
    </div>
  );
}
