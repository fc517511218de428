// deploy/kubernetes: every file parses, each overlay renders (kubectl kustomize), and the rendered
// manifests match the code: probes on the real health routes and ports, variables the code reads,
// secrets only referenced, hardened pods, and only the gateway reachable.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAlertingConfig } from '@tresor/alerting';
import { parseMonitorConfig } from '@tresor/assurance';
import { authConfigFromEnv } from '@tresor/auth';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { envNamesReadByCode, gatewayDefaultPort, healthPaths, read, requiredEnv, ROOT, SECRET_NAME, SERVICE_PORTS, serviceNames } from './support.js';

const DIR = 'deploy/kubernetes';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : [],
  );
}

function parseAll(text: string, where: string): Doc[] {
  const docs = YAML.parseAllDocuments(text);
  for (const d of docs) expect(d.errors.map((e) => `${where}: ${e.message}`)).toEqual([]);
  return docs.map((d) => d.toJSON() as Doc).filter((d) => d !== null);
}

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The manifests of an overlay as `kubectl kustomize` renders them. Without kubectl, the base's
 * resources with its image tags and generated ConfigMap (so the checks below still run on every file).
 */
function render(overlay: string): Doc[] {
  if (kubectlAvailable()) {
    return parseAll(execFileSync('kubectl', ['kustomize', join(ROOT, DIR, 'overlays', overlay)], { encoding: 'utf8' }), overlay);
  }
  const k = parseAll(read(`${DIR}/base/kustomization.yaml`), 'base')[0]!;
  const docs = (k.resources as string[]).flatMap((r) => parseAll(read(`${DIR}/base/${r}`), r));
  const tags = new Map((k.images as Array<{ name: string; newTag: string }>).map((i) => [i.name, i.newTag]));
  for (const d of docs.filter((x) => x.kind === 'Deployment')) {
    for (const c of d.spec.template.spec.containers) c.image = `${c.image}:${tags.get(c.image)}`;
  }
  for (const g of k.configMapGenerator as Array<{ name: string; literals?: string[]; files?: string[] }>) {
    const data = Object.fromEntries([
      ...(g.literals ?? []).map((l) => l.split(/=(.*)/s).slice(0, 2)),
      ...(g.files ?? []).map((f) => [f.split('/').at(-1)!, read(`${DIR}/base/${f}`)]),
    ]);
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data });
  }
  return docs;
}

const services = serviceNames();
const healthRoutes = healthPaths();
const knownEnv = envNamesReadByCode();

describe('deploy/kubernetes files', () => {
  it.each(yamlFiles(DIR))('%s parses, every document a named object', (file) => {
    for (const d of parseAll(read(file), file)) {
      expect(d.apiVersion, file).toBeTruthy();
      expect(d.kind, file).toBeTruthy();
      if (d.kind !== 'Kustomization') expect(d.metadata?.name, file).toBeTruthy();
    }
  });
});

describe.each(['production', 'development'])('overlay %s', (overlay) => {
  const docs = render(overlay);
  const of = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployment = (svc: string) => of('Deployment').find((d) => d.metadata.name === `tresor-${svc}`)!;
  const configMap = (name: string): Doc => of('ConfigMap').find((c) => c.metadata.name === name || c.metadata.name.startsWith(`${name}-`))!;

  it('holds no Secret: secrets are created in the cluster and only referenced', () => {
    expect(of('Secret')).toEqual([]);
    for (const cm of of('ConfigMap')) for (const key of Object.keys(cm.data ?? {})) expect(key).not.toMatch(SECRET_NAME);
  });

  it.each(services)('runs %s as a hardened Deployment with its own ServiceAccount', (svc) => {
    const d = deployment(svc);
    expect(d, `Deployment tresor-${svc}`).toBeDefined();
    const pod = d.spec.template.spec;
    expect(d.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': svc });
    expect(d.spec.template.metadata.labels['app.kubernetes.io/part-of']).toBe('tresor');
    const sa = of('ServiceAccount').find((s) => s.metadata.name === pod.serviceAccountName);
    expect(sa?.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    const [c] = pod.containers;
    expect(pod.containers).toHaveLength(1);
    expect(c.image).toMatch(new RegExp(`(^|/)tresor/${svc}:\\d+\\.\\d+\\.\\d+$`));
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    for (const r of ['cpu', 'memory']) {
      expect(c.resources.requests[r], `${svc} requests.${r}`).toBeDefined();
      expect(c.resources.limits[r], `${svc} limits.${r}`).toBeDefined();
    }
    const volumes = new Set((pod.volumes ?? []).map((v: Doc) => v.name));
    for (const m of c.volumeMounts ?? []) expect(volumes, `${svc} mounts ${m.name}`).toContain(m.name);
    expect(c.volumeMounts.some((m: Doc) => m.mountPath === '/tmp')).toBe(true);
  });

  it.each(services)('probes %s on the health routes of the code, at the port it listens on', (svc) => {
    const [c] = deployment(svc).spec.template.spec.containers;
    const env = Object.fromEntries((c.env as Doc[]).map((e) => [e.name, e.value]));
    const port = Number(env.TRESOR_HTTP_PORT);
    expect(port).toBe(SERVICE_PORTS[svc]);
    if (svc === 'gateway') expect(port).toBe(gatewayDefaultPort());
    const named = Object.fromEntries((c.ports as Doc[]).map((p) => [p.name, p.containerPort]));
    expect(c.livenessProbe.httpGet.path).toBe('/health/live');
    expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const get = c[probe].httpGet;
      expect(healthRoutes, `${svc} ${probe}`).toContain(get.path);
      expect(typeof get.port === 'number' ? get.port : named[get.port], `${svc} ${probe} port`).toBe(port);
    }
    // The service must listen beyond loopback for the kubelet to reach it.
    const cm = configMap(c.envFrom[0].configMapRef.name);
    expect(env.TRESOR_HTTP_HOST ?? cm.data.TRESOR_HTTP_HOST).toBe('0.0.0.0');
  });

  it.each(services)('configures %s only with variables the code reads, secrets by reference', (svc) => {
    const [c] = deployment(svc).spec.template.spec.containers;
    const names: string[] = (c.env as Doc[]).map((e) => e.name);
    for (const from of c.envFrom ?? []) {
      const cm = configMap(from.configMapRef.name);
      expect(cm, `ConfigMap ${from.configMapRef.name}`).toBeDefined();
      names.push(...Object.keys(cm.data));
    }
    for (const n of names) expect(knownEnv, `${svc}: ${n}`).toContain(n);
    for (const n of requiredEnv(svc)) expect(names, `${svc} needs ${n}`).toContain(n);
    for (const e of c.env as Doc[]) if (SECRET_NAME.test(e.name)) expect(e.value ?? '', `${svc}: ${e.name} inline`).toMatch(/^$|_FILE$|^\//);
    const mongo = (c.env as Doc[]).find((e) => e.name === 'TRESOR_MONGODB_URL');
    expect(mongo?.valueFrom?.secretKeyRef?.name, `${svc}: MongoDB URL (may hold credentials) from a Secret`).toBeTruthy();
    // Every secret file (passphrase, signing key, LDAP password) comes from a Secret volume.
    for (const e of (c.env as Doc[]).filter((x) => x.name.endsWith('_FILE') && SECRET_NAME.test(x.name.replace(/_FILE$/, '')))) {
      const pod = deployment(svc).spec.template.spec;
      const mount = (c.volumeMounts as Doc[]).find((m) => e.value.startsWith(`${m.mountPath}/`));
      expect(mount, `${svc}: ${e.name} is on a mounted volume`).toBeDefined();
      expect(pod.volumes.find((v: Doc) => v.name === mount!.name).secret, `${svc}: ${e.name} from a Secret`).toBeDefined();
    }
    const repo = (c.env as Doc[]).find((e) => e.name === 'TRESOR_REPO');
    if (repo) {
      // What openClusterRepository reads from the repository directory (libs/repository/src/layout.ts).
      const layout = read('libs/repository/src/layout.ts');
      expect(layout).toContain("config: join(repoDir, 'tresor.json')");
      expect(layout).toContain("signingKey: join(repoDir, 'keys', 'signing.pem')");
      const paths = (c.volumeMounts as Doc[]).map((m) => m.mountPath);
      expect(paths).toContain(`${repo.value}/tresor.json`);
      expect(paths).toContain(`${repo.value}/keys/signing.pem`);
    }
  });

  it("configures the gateway's logins as the auth lib reads them", () => {
    const [c] = deployment('gateway').spec.template.spec.containers;
    const env: Record<string, string> = {};
    for (const from of c.envFrom) Object.assign(env, configMap(from.configMapRef.name).data);
    for (const e of c.env as Doc[]) if (e.value !== undefined) env[e.name] = e.value;
    expect(env.TRESOR_AUTH_SIGNING_KEY_FILE).toBeDefined();
    expect((c.env as Doc[]).find((e) => e.name === 'TRESOR_REDIS_URL')?.valueFrom?.secretKeyRef?.name).toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'tresor-k8s-'));
    try {
      writeFileSync(join(dir, 'password'), 'stand-in\n');
      writeFileSync(join(dir, 'key.pem'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const auth = authConfigFromEnv({ ...env, TRESOR_LDAP_BIND_PASSWORD_FILE: join(dir, 'password'), TRESOR_AUTH_SIGNING_KEY_FILE: join(dir, 'key.pem') });
      expect(auth.ldap?.url).toMatch(/^ldaps:\/\/|^ldap:\/\//);
      expect(auth.signingKeyPem).toContain('PRIVATE KEY');
      expect(Object.values(auth.groupMap).flatMap((g) => g.roles).sort()).toEqual(['admin', 'auditor', 'custodian', 'operator', 'viewer']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** The file a variable of a service names, as the ConfigMap mounted there holds it. */
  const mountedConfig = (svc: string, variable: string): { file: string; text: string } => {
    const pod = deployment(svc).spec.template.spec;
    const [c] = pod.containers;
    const file = (c.env as Doc[]).find((e) => e.name === variable)!.value as string;
    const mount = (c.volumeMounts as Doc[]).find((m) => file.startsWith(`${m.mountPath}/`))!;
    const cmName = pod.volumes.find((v: Doc) => v.name === mount.name).configMap.name as string;
    return { file, text: of('ConfigMap').find((m) => m.metadata.name === cmName)!.data[file.slice(mount.mountPath.length + 1)] as string };
  };

  it("gives monitoring an alerting config the alerting lib accepts, its secrets from a Secret", () => {
    const pod = deployment('monitoring').spec.template.spec;
    const [c] = pod.containers;
    const { file, text } = mountedConfig('monitoring', 'TRESOR_ALERTS_CONFIG');
    const config = parseAlertingConfig(JSON.parse(text), file);
    const secretDirs = (c.volumeMounts as Doc[]).filter((m) => pod.volumes.find((v: Doc) => v.name === m.name).secret).map((m) => `${m.mountPath}/`);
    const refs = JSON.stringify(config.channels).match(/"file":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(secretDirs.some((d) => ref.slice(8, -1).startsWith(d)), ref).toBe(true);
    expect(JSON.stringify(config.channels)).not.toMatch(/"env":/);
  });

  it('gives Redis (leases, locks, sessions) to the scheduler, monitoring, backup-engine and gateway', () => {
    for (const svc of ['scheduler', 'monitoring', 'backup-engine', 'gateway']) {
      const [c] = deployment(svc).spec.template.spec.containers;
      expect((c.env as Doc[]).find((e) => e.name === 'TRESOR_REDIS_URL')?.valueFrom?.secretKeyRef?.name, svc).toBe('tresor-redis');
    }
  });

  it('gives monitoring a health check config the assurance lib accepts, and as many replicas as the scheduler (they elect a leader)', () => {
    const { file, text } = mountedConfig('monitoring', 'TRESOR_MONITOR_CONFIG');
    expect(parseMonitorConfig(JSON.parse(text), file).intervalSeconds).toBeGreaterThan(0);
    const scheduler = deployment('scheduler').spec.replicas as number;
    expect(scheduler).toBeGreaterThan(1);
    expect(deployment('monitoring').spec.replicas).toBe(scheduler);
  });

  it.each(services)('connects %s to NATS as its own user of deploy/nats, its password from its own Secret', (svc) => {
    const pod = deployment(svc).spec.template.spec;
    const [c] = pod.containers;
    const env = Object.fromEntries((c.env as Doc[]).map((e) => [e.name, e.value]));
    expect(env.TRESOR_NATS_USER).toBe(svc);
    expect(read('deploy/nats/authorization.conf')).toContain(`user: "${svc}"`);
    const mount = (c.volumeMounts as Doc[]).find((m) => String(env.TRESOR_NATS_PASSWORD_FILE).startsWith(`${m.mountPath}/`))!;
    expect(pod.volumes.find((v: Doc) => v.name === mount.name).secret.secretName).toBe(`tresor-nats-${svc}`);
  });

  it('scales backup-engine with a HorizontalPodAutoscaler', () => {
    const hpa = of('HorizontalPodAutoscaler')[0]!;
    expect(of('HorizontalPodAutoscaler')).toHaveLength(1);
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'tresor-backup-engine' });
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics.length).toBeGreaterThan(0);
  });

  it('has a PodDisruptionBudget for every Deployment', () => {
    for (const d of of('Deployment')) {
      const pdb = of('PodDisruptionBudget').find((p) => Object.entries(p.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(pdb, `PDB for ${d.metadata.name}`).toBeDefined();
    }
  });

  it('lets traffic in to the gateway only, and every pod out to NATS and MongoDB', () => {
    const policies = of('NetworkPolicy');
    const deny = policies.find((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/part-of'] === 'tresor' && !p.spec.ingress && !p.spec.egress);
    expect(deny?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    for (const p of policies.filter((x) => x.spec.ingress)) {
      expect(p.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'gateway' });
      for (const rule of p.spec.ingress) expect(rule.ports.map((x: Doc) => x.port)).toEqual([SERVICE_PORTS.gateway]);
    }
    expect(of('Service').map((s) => s.spec.selector['app.kubernetes.io/name'])).toEqual(['gateway']);
    expect(of('Service')[0]!.spec.ports.map((p: Doc) => p.port)).toEqual([SERVICE_PORTS.gateway]);
    const everyPodEgress = policies
      .filter((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/part-of'] === 'tresor' && p.spec.egress)
      .flatMap((p) => p.spec.egress.flatMap((r: Doc) => r.ports.map((x: Doc) => x.port)));
    const natsPort = Number(new URL(String(configMap('tresor-config').data.TRESOR_NATS_URL).split(',')[0]!).port || 4222);
    expect(everyPodEgress).toEqual(expect.arrayContaining([53, natsPort, 27017]));
  });
});
