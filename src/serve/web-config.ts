// `--web.config.file`: TLS and basic auth in the format of Prometheus's exporter-toolkit
// (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md), so one
// file serves node_exporter and inotop alike. Unknown keys are refused, as the toolkit does.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SecureContextOptions, SecureVersion } from 'node:tls';
import bcrypt from 'bcryptjs';
import { parse as parseYaml } from 'yaml';

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
}

const TLS_VERSIONS: Record<string, SecureVersion> = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names). */
const CLIENT_AUTH: Record<string, { requestCert: boolean; rejectUnauthorized: boolean; needsCa: boolean }> = {
  NoClientCert: { requestCert: false, rejectUnauthorized: false, needsCa: false },
  RequestClientCert: { requestCert: true, rejectUnauthorized: false, needsCa: false },
  RequireAnyClientCert: { requestCert: true, rejectUnauthorized: false, needsCa: false },
  VerifyClientCertIfGiven: { requestCert: true, rejectUnauthorized: false, needsCa: true },
  RequireAndVerifyClientCert: { requestCert: true, rejectUnauthorized: true, needsCa: true },
};

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
    if (auth.needsCa && !ca) throw new WebConfigError(`${path}: client_auth_type ${authName} needs client_ca_file`);
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
      rejectUnauthorized: auth.rejectUnauthorized,
    };
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
      for (const [name, value] of Object.entries(object(http.headers, `${path}: http_server_config.headers`, null))) headers[name] = string(value, name);
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

  function string(value: unknown, name: string): string {
    if (typeof value !== 'string') throw new WebConfigError(`${path}: ${name} must be a string`);
    return value;
  }
}

/**
 * Checks an Authorization header against the users. bcrypt is slow on purpose (tens of ms in
 * JavaScript at cost 10): a pair that matched once is remembered, as exporter-toolkit does, so a
 * scrape every few seconds costs one hash per process lifetime.
 */
export class BasicAuth {
  private readonly accepted = new Set<string>();

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  async allows(authorization: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const hash = this.users.get(user);
    if (hash === undefined) return false;
    // A digest, not the password itself, is what stays in memory.
    const key = createHash('sha256').update(hash).update('\0').update(decoded).digest('hex');
    if (this.accepted.has(key)) return true;
    const ok = await bcrypt.compare(decoded.slice(colon + 1), hash);
    if (ok) this.accepted.add(key);
    return ok;
  }
}
