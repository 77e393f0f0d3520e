import { useEffect, useState } from 'react';
import type { Authentication, DkimVerdict, MessageDetail, Verdict } from '@mailwright/core';
import { api } from '../api/client';
import { Fact, Facts } from './facts';

/** How often, and how many times, a message whose verdicts are pending is read again. */
const PENDING_POLL_MS = 300;
const PENDING_POLLS = 40;
const TONE_MARK = { ok: '✓', bad: '✗', neutral: '–' } as const;

/** The tone a verdict is shown in: passed, failed, or neither (nothing to judge, or undecided). */
export function verdictTone(verdict: Verdict | string): 'ok' | 'bad' | 'neutral' {
  if (verdict === 'pass') return 'ok';
  if (verdict === 'none' || verdict === 'neutral') return 'neutral';
  return 'bad';
}

/** A verdict as a small coloured word. */
export function VerdictWord({ verdict, testId }: { verdict: Verdict | string; testId?: string }) {
  return (
    <span className={`verdict verdict-${verdictTone(verdict)}`} data-testid={testId} data-verdict={verdict}>
      {verdict}
    </span>
  );
}

function authenticationOf(message: MessageDetail): Authentication | null {
  return (message as MessageDetail & { authentication?: Authentication | null }).authentication ?? null;
}

/**
 * The message's authentication record, read again (bounded) while its verdicts are pending;
 * null without a message or a record.
 */
export function useSettledAuthentication(message: MessageDetail | null): { authentication: Authentication | null; gaveUp: boolean } {
  const id = message?.id ?? null;
  const initial = message ? authenticationOf(message) : null;
  const [state, setState] = useState({ id, authentication: initial, gaveUp: false });
  const current = state.id === id ? state : { id, authentication: initial, gaveUp: false };
  const pending = id !== null && current.authentication?.status === 'pending' && !current.gaveUp;
  useEffect(() => {
    if (!pending || id === null) return;
    let active = true;
    let polls = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = (): void => {
      timer = setTimeout(() => {
        polls += 1;
        api.getMessage(id).then(
          (detail) => {
            if (!active) return;
            const authentication = authenticationOf(detail);
            if (authentication?.status === 'done') setState({ id, authentication, gaveUp: false });
            else if (polls >= PENDING_POLLS) setState({ id, authentication, gaveUp: true });
            else poll();
          },
          () => active && setState((previous) => ({ ...previous, id, gaveUp: true })),
        );
      }, PENDING_POLL_MS);
    };
    poll();
    return () => {
      active = false;
      clearTimeout(timer);
    };
  }, [id, pending]);
  return current;
}

function DkimSignature({ signature, index }: { signature: DkimVerdict; index: number }) {
  return (
    <li className="dkim-signature" data-testid="auth-dkim-signature">
      <div>
        <VerdictWord verdict={signature.result} testId="auth-dkim-result" />{' '}
        <span className="mono" data-testid="auth-dkim-domain">
          d={signature.domain || '—'} s={signature.selector || '—'}
        </span>
        <span className="muted"> #{index + 1}</span>
      </div>
      <div className="muted">
        {[
          signature.algorithm,
          signature.canonicalization,
          signature.keyBits === null ? null : `${signature.keyBits}-bit key`,
          signature.bodyHashMatched ? 'body hash matched' : 'body hash did not match',
          signature.bodyLengthLimit === null ? null : `l=${signature.bodyLengthLimit} (${signature.unsignedBodyBytes} bytes unsigned)`,
          signature.aligned ? 'aligned with From' : 'not aligned with From',
        ]
          .filter(Boolean)
          .join(' · ')}
      </div>
      {signature.reason && <div data-testid="auth-dkim-reason">{signature.reason}</div>}
    </li>
  );
}

/** One check (SPF, DMARC…): its verdict, with the reason beneath. */
function Check({ verdict, reason, detail, testId }: { verdict: Verdict; reason: string | null; detail?: string | null; testId: string }) {
  return (
    <div data-testid={testId}>
      <VerdictWord verdict={verdict} testId={`${testId}-result`} />
      {detail && <span className="mono"> {detail}</span>}
      {reason && (
        <div className="muted" data-testid={`${testId}-reason`}>
          {reason}
        </div>
      )}
    </div>
  );
}

/**
 * Who really sent the message: each DKIM signature, SPF for MAIL FROM and HELO, DMARC and ARC,
 * with verdict and reason, and the Authentication-Results header a receiving MTA would add.
 */
export function AuthenticationPanel({ authentication, gaveUp }: { authentication: Authentication | null; gaveUp: boolean }) {
  return (
    <aside
      className="side-panel authentication-panel"
      id="authentication"
      aria-labelledby="authentication-title"
      data-testid="authentication-panel"
      tabIndex={-1}
    >
      <div className="panel-heading">
        <h2 id="authentication-title">Authentication</h2>
        {authentication?.status === 'done' && <AuthenticationBadge verdicts={authentication} large />}
      </div>
      {authentication === null && <p className="muted">No verdicts were computed for this message.</p>}
      {authentication?.status === 'pending' && (
        <p className="muted" data-testid="authentication-pending">
          {gaveUp ? 'The verdicts are still pending; reload to look again.' : 'Verdicts pending: checking SPF, DKIM and DMARC…'}
        </p>
      )}
      {authentication?.status === 'done' && (
        <>
          <section className="facts">
            <h3>DKIM</h3>
            {authentication.dkim.length === 0 ? (
              <p className="muted" data-testid="auth-dkim-none">
                Not signed.
              </p>
            ) : (
              <ol className="plain-list dkim-signatures">
                {authentication.dkim.map((signature, index) => (
                  <DkimSignature key={index} signature={signature} index={index} />
                ))}
              </ol>
            )}
          </section>
          <Facts title="SPF">
            <Fact
              label={`MAIL FROM ${authentication.spf.domain}`}
              value={<Check testId="auth-spf" verdict={authentication.spf.result} detail={authentication.spf.mechanism} reason={authentication.spf.reason} />}
            />
            {authentication.helo && (
              <Fact
                label={`HELO ${authentication.helo.domain ?? ''}`}
                value={<Check testId="auth-helo" verdict={authentication.helo.result} reason={authentication.helo.reason} />}
              />
            )}
            <Fact label="Client IP" mono testId="auth-client-ip" value={`${authentication.clientIp.address} (${authentication.clientIp.source})`} />
          </Facts>
          <Facts title="DMARC">
            <Fact
              label={authentication.dmarc.domain || 'From domain'}
              value={
                <Check
                  testId="auth-dmarc"
                  verdict={authentication.dmarc.result}
                  detail={authentication.dmarc.policy === null ? null : `p=${authentication.dmarc.policy}`}
                  reason={authentication.dmarc.reason}
                />
              }
            />
            <Fact
              label="Alignment"
              value={`SPF ${authentication.dmarc.spfAligned ? 'aligned' : 'not aligned'}, DKIM ${authentication.dmarc.dkimAligned ? 'aligned' : 'not aligned'}`}
            />
          </Facts>
          {authentication.arc && (
            <Facts title="ARC">
              <Fact
                label={`${authentication.arc.instances} instance${authentication.arc.instances === 1 ? '' : 's'}`}
                value={<Check testId="auth-arc" verdict={authentication.arc.result} reason={authentication.arc.reason} />}
              />
            </Facts>
          )}
          <section className="facts">
            <h3>Authentication-Results</h3>
            <pre className="mono wrap authentication-results" data-testid="authentication-results">
              {authentication.authenticationResults}
            </pre>
          </section>
        </>
      )}
    </aside>
  );
}

/** The verdicts a badge shows: a DKIM, SPF and DMARC verdict each (a list summary's, or a full record's). */
export interface BadgeVerdicts {
  status: 'pending' | 'done';
  dkim: Verdict | readonly DkimVerdict[];
  spf: Verdict | { result: Verdict };
  dmarc: Verdict | { result: Verdict };
}

/** The DKIM verdict of a list of signatures: pass when one passes, else the first one's, `none` when unsigned. */
function dkimVerdict(dkim: BadgeVerdicts['dkim']): Verdict {
  if (typeof dkim === 'string') return dkim;
  return dkim.some((signature) => signature.result === 'pass') ? 'pass' : (dkim[0]?.result ?? 'none');
}

/** DKIM, SPF and DMARC at a glance, each coloured and marked by its verdict. */
export function AuthenticationBadge({ verdicts, large = false }: { verdicts: BadgeVerdicts; large?: boolean }) {
  if (verdicts.status !== 'done') return null;
  const checks: [string, Verdict][] = [
    ['DKIM', dkimVerdict(verdicts.dkim)],
    ['SPF', typeof verdicts.spf === 'string' ? verdicts.spf : verdicts.spf.result],
    ['DMARC', typeof verdicts.dmarc === 'string' ? verdicts.dmarc : verdicts.dmarc.result],
  ];
  return (
    <span
      className={`auth-badge${large ? ' auth-badge-large' : ''}`}
      data-testid="auth-badge"
      title={checks.map(([name, verdict]) => `${name} ${verdict}`).join(', ')}
      {...Object.fromEntries(checks.map(([name, verdict]) => [`data-${name.toLowerCase()}`, verdict]))}
    >
      {checks.map(([name, verdict]) => (
        <span key={name} className={`verdict-${verdictTone(verdict)}`}>
          {name} {TONE_MARK[verdictTone(verdict)]}
        </span>
      ))}
    </span>
  );
}

/** The verdicts in the message header: a button that brings the Authentication panel into view. */
export function AuthenticationJump({ authentication }: { authentication: Authentication | null }) {
  if (authentication?.status !== 'done') return null;
  return (
    <button
      type="button"
      className="auth-jump"
      data-testid="auth-jump"
      aria-label="Show the authentication verdicts"
      onClick={() => {
        const panel = document.getElementById('authentication');
        panel?.scrollIntoView({ block: 'start' });
        panel?.focus({ preventScroll: true });
      }}
    >
      <AuthenticationBadge verdicts={authentication} />
    </button>
  );
}
