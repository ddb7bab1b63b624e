// npm run generate: writes the files made from one source each, which are checked in so that
// users get them from the repository and the package as they are:
//   deploy/prometheus-operator/prometheusrule.yaml  from deploy/prometheus/inotify-rules.yaml
//   deploy/krew/inotop.yaml's sha256                 from the archive scripts/krew-archive.ts makes
//   deploy/grafana/inotop.json                       from deploy/grafana/dashboard.ts
//   man/inotop.1                                     from the flag tables (src/cli/manpage.ts)
// test/system/deploy-generated.test.ts fails while any of them is not what this would write.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { inotopDashboard } from '../deploy/grafana/dashboard.js';
import { manPage } from '../src/cli/manpage.js';
import { krewArchive } from './krew-archive.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

export interface GeneratedFile {
  /** Relative to the repository. */
  path: string;
  text: string;
}

export const RULES_FILE = 'deploy/prometheus/inotify-rules.yaml';

/** The alert rules as a PrometheusRule of the Prometheus Operator, in the DaemonSet's namespace. */
function prometheusRule(): GeneratedFile {
  const rules = parse(readFileSync(join(repo, RULES_FILE), 'utf8')) as { groups: unknown[] };
  const object = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'inotop', namespace: 'inotop', labels: { 'app.kubernetes.io/name': 'inotop' } },
    spec: { groups: rules.groups },
  };
  const header = [
    `# Made by \`npm run generate\` from ${RULES_FILE}, the one source of the rules: edit that one.`,
    '# A Prometheus of the Operator loads it where its ruleSelector matches: add the label it asks for',
    '# (kube-prometheus-stack: release: <its release name>), e.g. with kubectl label or a kustomize patch.',
  ];
  return { path: 'deploy/prometheus-operator/prometheusrule.yaml', text: `${header.join('\n')}\n${stringify(object, { lineWidth: 0 })}` };
}

/** The krew manifest with the sha256 of the archive this checkout makes. */
function krewManifest(): GeneratedFile {
  const path = 'deploy/krew/inotop.yaml';
  const sha256 = createHash('sha256').update(krewArchive()).digest('hex');
  const text = readFileSync(join(repo, path), 'utf8').replace(/^(\s*sha256: )[0-9a-f]*$/m, `$1${sha256}`);
  return { path, text };
}

/** The dashboard as Grafana imports it. */
function grafanaDashboard(): GeneratedFile {
  return { path: 'deploy/grafana/inotop.json', text: `${JSON.stringify(inotopDashboard(), null, 2)}\n` };
}

export function generatedFiles(): GeneratedFile[] {
  return [prometheusRule(), krewManifest(), grafanaDashboard(), { path: 'man/inotop.1', text: manPage() }];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const file of generatedFiles()) {
    const path = join(repo, file.path);
    let old: string | null = null;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      // new
    }
    if (old === file.text) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.text);
    process.stdout.write(`wrote ${file.path}\n`);
  }
}
