// `--web.config.file`: TLS and basic auth in the format of Prometheus's exporter-toolkit
// (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md), so one
// file serves node_exporter and inotop alike. Unknown keys are refused, as the toolkit does.
import { readFileSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { dirname, resolve } from 'node:path';
import { createSecureContext, type PeerCertificate, type SecureContextOptions, type SecureVersion, type TLSSocket } from 'node:tls';
import { parse as parseYaml } from 'yaml';
import { errorText } from '../common/error-text.js';

export class WebConfigError extends Error {}

export interface WebConfig {
  /** null: plain HTTP. */
  tls: TlsConfig | null;
  /** user -> bcrypt hash; empty: no authentication. */
  users: ReadonlyMap<string, string>;
  /** Extra response headers (http_server_config.headers). */
  headers: Readonly<Record<string, string>>;
}

export interface TlsConfig extends Pick<SecureContextOptions, 'cert' | 'key' | 'ca' | 'minVersion' | 'maxVersion'> {
  requestCert: boolean;
  rejectUnauthorized: boolean;
  /** What client_auth_type asks of a client's certificate, checked on each connection (acceptsClient). */
  clientAuth: ClientAuth;
}

/** What a client_auth_type asks: a certificate at all, and one that verifies against client_ca. */
export interface ClientAuth {
  name: string;
  required: boolean;
  verified: boolean;
}

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/**
 * exporter-toolkit's client_auth_type values, as Go's tls.ClientAuthType means them: whether a
 * certificate is asked for, required, and verified (against client_ca, for client use). Node asks
 * (requestCert) and, only for the last, refuses in the handshake (rejectUnauthorized); the rest is
 * acceptsClient's, on every connection.
 */
const CLIENT_AUTH: Record<string, { requestCert: boolean; required: boolean; verified: boolean }> = {
  NoClientCert: { requestCert: false, required: false, verified: false },
  RequestClientCert: { requestCert: true, required: false, verified: false },
  RequireAnyClientCert: { requestCert: true, required: true, verified: false },
  VerifyClientCertIfGiven: { requestCert: true, required: false, verified: true },
  RequireAndVerifyClientCert: { requestCert: true, required: true, verified: true },
};

/** Extended key usages that allow a certificate to authenticate a TLS client (Go's ExtKeyUsageClientAuth, or any). */
const CLIENT_USAGES = ['1.3.6.1.5.5.7.3.2', '2.5.29.37.0'];

/** Whether a TLS connection's client may go on, as its client_auth_type says; why not, else. */
export function clientRefusal(socket: TLSSocket, auth: ClientAuth): string | null {
  const certificate: PeerCertificate | Record<string, never> = socket.getPeerCertificate();
  const given = certificate !== null && Object.keys(certificate).length > 0;
  if (!given) return auth.required ? `${auth.name}: no client certificate` : null;
  if (!auth.verified) return null;
  if (!socket.authorized) return `${auth.name}: client certificate not verified (${String(socket.authorizationError ?? 'unknown')})`;
  const usages = (certificate as PeerCertificate).ext_key_usage;
  if (usages && !usages.some((usage) => CLIENT_USAGES.includes(usage))) return `${auth.name}: client certificate not for client authentication`;
  return null;
}

/** Headers that say how the answer is framed or who may see it: set by inotop, never by the config. */
const FRAMING_HEADERS = new Set(['content-length', 'content-type', 'transfer-encoding', 'connection', 'www-authenticate', 'keep-alive', 'upgrade', 'trailer']);

const TOP_KEYS = ['tls_server_config', 'http_server_config', 'basic_auth_users'];
const TLS_KEYS = ['cert_file', 'key_file', 'cert', 'key', 'client_auth_type', 'client_ca_file', 'client_ca', 'min_version', 'max_version'];
const HTTP_KEYS = ['http2', 'headers'];

export function readWebConfig(path: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WebConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    throw new WebConfigError(`${path}: not YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const top = object(doc, path, TOP_KEYS);
  // Relative file names are relative to the config file, as in exporter-toolkit.
  const file = (name: string) => resolve(dirname(path), name);
  const read = (what: string, name: string) => {
    try {
      return readFileSync(file(name));
    } catch (error) {
      throw new WebConfigError(`${path}: cannot read ${what} ${name}: ${(error as Error).message}`);
    }
  };

  let tls: TlsConfig | null = null;
  if (top.tls_server_config !== undefined && top.tls_server_config !== null) {
    const t = object(top.tls_server_config, `${path}: tls_server_config`, TLS_KEYS);
    const cert =
      t.cert_file !== undefined ? read('cert_file', string(t.cert_file, 'cert_file')) : t.cert !== undefined ? Buffer.from(string(t.cert, 'cert')) : null;
    const key = t.key_file !== undefined ? read('key_file', string(t.key_file, 'key_file')) : t.key !== undefined ? Buffer.from(string(t.key, 'key')) : null;
    if (!cert || !key) throw new WebConfigError(`${path}: tls_server_config needs cert_file and key_file`);
    const authName = t.client_auth_type === undefined ? 'NoClientCert' : string(t.client_auth_type, 'client_auth_type');
    const auth = CLIENT_AUTH[authName];
    if (!auth) throw new WebConfigError(`${path}: client_auth_type '${authName}' is not one of ${Object.keys(CLIENT_AUTH).join(', ')}`);
    const ca =
      t.client_ca_file !== undefined
        ? read('client_ca_file', string(t.client_ca_file, 'client_ca_file'))
        : t.client_ca !== undefined
          ? Buffer.from(string(t.client_ca, 'client_ca'))
          : undefined;
    if (auth.verified && !ca) throw new WebConfigError(`${path}: client_auth_type ${authName} needs client_ca_file`);
    const version = (name: 'min_version' | 'max_version'): SecureVersion | undefined => {
      if (t[name] === undefined) return undefined;
      const v = TLS_VERSIONS[string(t[name], name)];
      if (!v) throw new WebConfigError(`${path}: ${name} must be one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
      return v;
    };
    tls = {
      cert,
      key,
      ...(ca ? { ca } : {}),
      // exporter-toolkit's default minimum is TLS 1.2.
      minVersion: version('min_version') ?? 'TLSv1.2',
      ...(t.max_version !== undefined ? { maxVersion: version('max_version') } : {}),
      requestCert: auth.requestCert,
      rejectUnauthorized: auth.required && auth.verified,
      clientAuth: { name: authName, required: auth.required, verified: auth.verified },
    };
    // A key that is not the certificate's, or a file that is not PEM, is found now, not at the first connection.
    try {
      createSecureContext(tls);
    } catch (error) {
      throw new WebConfigError(`${path}: tls_server_config: ${errorText(error)}`);
    }
  }

  const users = new Map<string, string>();
  if (top.basic_auth_users !== undefined && top.basic_auth_users !== null) {
    for (const [user, hash] of Object.entries(object(top.basic_auth_users, `${path}: basic_auth_users`, null))) {
      const h = string(hash, `basic_auth_users.${user}`);
      if (!/^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/.test(h)) throw new WebConfigError(`${path}: basic_auth_users.${user} is not a bcrypt hash`);
      users.set(user, h);
    }
  }

  const headers: Record<string, string> = {};
  if (top.http_server_config !== undefined && top.http_server_config !== null) {
    const http = object(top.http_server_config, `${path}: http_server_config`, HTTP_KEYS);
    if (http.headers !== undefined) {
      for (const [name, value] of Object.entries(object(http.headers, `${path}: http_server_config.headers`, null))) {
        headers[name] = header(name, string(value, `http_server_config.headers.${name}`));
      }
    }
  }
  return { tls, users, headers };

  function object(value: unknown, where: string, keys: readonly string[] | null): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new WebConfigError(`${where}: expected a mapping`);
    const record = value as Record<string, unknown>;
    const unknown = keys ? Object.keys(record).filter((k) => !keys.includes(k)) : [];
    if (unknown.length > 0) throw new WebConfigError(`${where}: unknown field ${unknown.map((k) => `'${k}'`).join(', ')}`);
    return record;
  }

  /** A header as HTTP allows it (a token for a name; no CR, LF or NUL in a value), and not one that frames the answer. */
  function header(name: string, value: string): string {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      throw new WebConfigError(`${path}: http_server_config.headers: ${JSON.stringify(name)}: not a valid HTTP header`);
    }
    if (FRAMING_HEADERS.has(name.toLowerCase())) throw new WebConfigError(`${path}: http_server_config.headers: ${name} is inotop's own to set`);
    return value;
  }

  function string(value: unknown, name: string): string {
    if (typeof value !== 'string') throw new WebConfigError(`${path}: ${name} must be a string`);
    return value;
  }
}
