import { z } from 'zod';

/** TLS protocol versions a listener can be limited to. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

const TlsVersionSchema = z.enum(TLS_VERSIONS);

/** An IPv4 or IPv6 address (no brackets, no zone): the client address SPF is judged for. */
export const IpAddressSchema = z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' });

/**
 * The server certificate profiles of the TLS lab: `valid` (issued by the test CA for the
 * server's names), the ones a client must refuse — `self-signed`, `expired`, `not-yet-valid`,
 * `wrong-host`, `unknown-ca` (right names, issued by a CA the client does not trust),
 * `weak-signature` (signed with SHA-1), `incomplete-chain` (issued by an intermediate CA the
 * server does not send).
 */
export const CERTIFICATE_PROFILES = [
  'valid',
  'self-signed',
  'expired',
  'not-yet-valid',
  'wrong-host',
  'unknown-ca',
  'weak-signature',
  'incomplete-chain',
] as const;
export type CertificateProfile = (typeof CERTIFICATE_PROFILES)[number];

/**
 * The key of a listener's server certificate: `ecdsa-p256` (default), `rsa-2048` (for
 * RSA-only cipher suites), `rsa-1024` (deliberately weak: modern clients refuse it).
 */
export const KEY_TYPES = ['ecdsa-p256', 'rsa-2048', 'rsa-1024'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

/**
 * A listener profile: one SMTP port with its TLS and AUTH policy. The default
 * listeners `smtp` and `smtps` are two of them; the TLS lab creates more at runtime.
 */
export const ListenerConfigSchema = z
  .object({
    /** Unique name, recorded on every message and session it accepts. */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, ".", "_" and "-", at most 64'),
    /** TCP port; 0 picks a free one. Default 0. */
    port: z.number().int().min(0).max(65535).default(0),
    /**
     * `starttls`: plaintext socket that can be upgraded (default); `implicit`: TLS from the
     * first byte (SMTPS); `none`: plaintext only.
     */
    tls: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
    /**
     * STARTTLS policy of a plaintext listener: `offer` (default for `tls: 'starttls'`),
     * `require` (MAIL, RCPT and AUTH before STARTTLS get 530), `off` (not advertised and refused;
     * the default for `tls: 'none'`), `fail` (advertised, answered with 454).
     */
    starttls: z.enum(['offer', 'require', 'off', 'fail']).optional(),
    /** Which server certificate to present. Default `valid` (issued by the test CA). */
    certificate: z.enum(CERTIFICATE_PROFILES).default('valid'),
    /** The key type of the server certificate. Default `ecdsa-p256`. */
    keyType: z.enum(KEY_TYPES).default('ecdsa-p256'),
    /**
     * Lowest TLS version accepted. Default `TLSv1.2`. A window that includes TLS 1.0 or 1.1
     * lowers the listener's OpenSSL security level to 0, so that those versions really negotiate.
     */
    minVersion: TlsVersionSchema.optional(),
    /** Highest TLS version accepted. Default `TLSv1.3`. */
    maxVersion: TlsVersionSchema.optional(),
    /**
     * OpenSSL cipher list (TLS 1.2 and below). Default: Node.js's. A list OpenSSL rejects, or
     * one that leaves a version of the window without a suite the key can use, is refused.
     */
    ciphers: z.string().min(1).optional(),
    /** Ask for a client certificate (`request`) or insist on one (`require`). Default `off`. */
    clientCertificate: z.enum(['off', 'request', 'require']).default('off'),
    /** AUTH policy; default: the server's `auth` option. */
    auth: z.enum(['off', 'optional', 'required']).optional(),
    /**
     * The client address SPF judges this listener's connections for (every local connection
     * comes from 127.0.0.1). Default: the server's `clientIp`, else the connection's address.
     */
    clientIp: IpAddressSchema.optional(),
  })
  .strict()
  .superRefine((listener, ctx) => {
    if (listener.tls === 'implicit' && listener.starttls !== undefined && listener.starttls !== 'off') {
      ctx.addIssue({ code: 'custom', path: ['starttls'], message: `an implicit TLS listener cannot use starttls "${listener.starttls}"` });
    }
    if (listener.tls === 'none' && listener.starttls !== undefined && listener.starttls !== 'off') {
      ctx.addIssue({
        code: 'custom',
        path: ['starttls'],
        message: `a plaintext-only listener (tls "none") cannot use starttls "${listener.starttls}"; use tls "starttls"`,
      });
    }
    // A listener that never negotiates TLS would silently ignore its TLS settings.
    const noTls =
      listener.tls === 'none'
        ? 'a plaintext-only listener (tls "none")'
        : listener.tls === 'starttls' && (listener.starttls === 'off' || listener.starttls === 'fail')
          ? `a listener with starttls "${listener.starttls}"`
          : null;
    if (noTls !== null) {
      const tlsSettings = {
        certificate: listener.certificate !== 'valid' ? listener.certificate : undefined,
        keyType: listener.keyType !== 'ecdsa-p256' ? listener.keyType : undefined,
        minVersion: listener.minVersion,
        maxVersion: listener.maxVersion,
        ciphers: listener.ciphers,
        clientCertificate: listener.clientCertificate !== 'off' ? listener.clientCertificate : undefined,
      };
      for (const [key, value] of Object.entries(tlsSettings)) {
        if (value !== undefined)
          ctx.addIssue({ code: 'custom', path: [key], message: `${noTls} never negotiates TLS, so ${key} "${value}" would have no effect` });
      }
    }
    if (listener.minVersion && listener.maxVersion && TLS_VERSIONS.indexOf(listener.minVersion) > TLS_VERSIONS.indexOf(listener.maxVersion)) {
      ctx.addIssue({ code: 'custom', path: ['minVersion'], message: `minVersion ${listener.minVersion} is above maxVersion ${listener.maxVersion}` });
    }
  });
export type ListenerConfig = z.input<typeof ListenerConfigSchema>;

/** A running listener as `GET /api/v1/listeners` and `/info` report it. */
export interface ListenerInfo {
  name: string;
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  starttls: 'offer' | 'require' | 'off' | 'fail';
  certificate: CertificateProfile;
  /** The key of the certificate it serves; null when that is the certificate given with `--tls-cert`. */
  keyType: KeyType | null;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  ciphers: string | null;
  clientCertificate: 'off' | 'request' | 'require';
  auth: 'off' | 'optional' | 'required';
  /** The client address SPF judges its connections for; null = the connection's own. */
  clientIp?: string | null;
}
