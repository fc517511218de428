import { createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '@tresor/errors';
import { buildSlot, createShredApproval, KeyService, listTenants, SHRED_APPROVAL_HOURS } from '@tresor/repository';
import type { Slot } from '@tresor/repository';
import { audited } from '../audit-trail.js';
import { optionsOf, withRepository } from '../context.js';
import { formatTable, printJson } from '../format.js';
import { parseInteger } from './init.command.js';
import { addSlotOptions, nonPassphraseSlots } from './key-slot-options.js';
import type { SlotOptions } from './key-slot-options.js';
import { collect } from './options.js';

async function readText(file: string, what: string): Promise<string> {
  return readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${what} ${file}: ${err.code ?? err.message}`);
  });
}

/** `tresor tenant`: groups of sources with their own destroyable keys, and crypto-shredding (docs/keys.md). */
export function registerTenant(program: Command): void {
  const tenant = program.command('tenant').description('tenants: sources with their own HSM/KMS keys that can be crypto-shredded');

  addSlotOptions(
    tenant
      .command('add')
      .description("define a tenant: its sources' backups are wrapped only for its own HSM/KMS key slots")
      .argument('<name>', 'tenant name (a-z, 0-9, . _ -)')
      .requiredOption('--source <dir>', 'a source directory of the tenant (repeatable)', collect, [])
      .requiredOption('--custodian <name=file>', "a custodian and their Ed25519 public key (PEM); two or more, each approves a shred (repeatable)", collect, []),
  ).action(async (name: string, _opts: object, command: Command) => {
    const options = optionsOf<SlotOptions & { source: string[]; custodian: string[] }>(command);
    if (options.publicKey.length > 0) throw new UsageError("a tenant's keys must be keys Tresor can destroy: --pkcs11-…, --aws-kms-key or --gcp-kms-key, not --public-key");
    const custodians: { name: string; publicKeyPem: string }[] = [];
    for (const c of options.custodian) {
      const at = c.indexOf('=');
      if (at <= 0) throw new UsageError(`--custodian '${c}' must be NAME=public-key.pem`);
      custodians.push({ name: c.slice(0, at), publicKeyPem: await readText(c.slice(at + 1), 'public key') });
    }
    const specs = await nonPassphraseSlots(options);
    const details = { tenant: name, sources: options.source.map((s) => resolve(s)), custodians: custodians.map((c) => c.name) };
    const body = await audited(options, 'tenant.add', name, details, () =>
      withRepository(options, async (repo) => {
        const slots: Slot[] = [];
        for (const spec of specs) slots.push(await buildSlot(spec));
        return KeyService.of(repo).defineTenant({ name, sources: options.source.map((s) => ({ kind: 'filesystem', location: resolve(s) })), slots, custodians });
      }),
    );
    if (options.json) printJson({ name: body.name, sources: body.sources, slots: body.slots.map((s) => ({ type: s.type, kekId: s.kekId })), custodians: body.custodians.map((c) => ({ name: c.name, keyId: c.keyId })) });
    else process.stdout.write(`tenant ${body.name}: ${body.sources.length} source(s), keys ${body.slots.map((s) => s.kekId).join(', ')}, custodians ${body.custodians.map((c) => c.name).join(', ')}\n`);
  });

  tenant
    .command('list')
    .description('tenants, their sources, keys, custodians and whether they were shredded')
    .action(async (_opts: object, command: Command) => {
      const options = optionsOf<object>(command);
      const tenants = await withRepository(options, (repo) => listTenants(repo));
      if (options.json)
        return printJson(tenants.map((t) => ({ name: t.name, sources: t.sources.map((s) => s.location), slots: t.slots.map((s) => ({ type: s.type, kekId: s.kekId })), custodians: t.custodians.map((c) => c.name), shreddedAt: t.shredded?.at })));
      process.stdout.write(
        formatTable(
          ['TENANT', 'STATE', 'SOURCES', 'KEYS', 'CUSTODIANS'],
          tenants.map((t) => [t.name, t.shredded ? `shredded ${t.shredded.at}` : 'active', t.sources.map((s) => s.location).join(', '), t.slots.map((s) => s.type).join(', '), t.custodians.map((c) => c.name).join(', ')]),
        ) + '\n',
      );
    });

  tenant
    .command('approve-shred')
    .description("a custodian's signed approval to shred a tenant (run by the custodian with their own key)")
    .argument('<tenant>', 'tenant name')
    .requiredOption('--custodian <name>', 'your custodian name, as registered with `tenant add`')
    .requiredOption('--key <file>', 'your Ed25519 private key (PEM)')
    .requiredOption('--output <file>', 'approval file to hand to the operator (created, never overwritten)')
    .option('--hours <n>', `validity (default ${SHRED_APPROVAL_HOURS})`)
    .action(async (name: string, _opts: object, command: Command) => {
      const options = optionsOf<{ custodian: string; key: string; output: string; hours?: string }>(command);
      const privateKeyPem = await readText(options.key, 'private key');
      let publicKeyPem: string;
      try {
        publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
      } catch (err) {
        throw new UsageError(`${options.key} is not a PEM private key`, { cause: err });
      }
      const hours = options.hours === undefined ? undefined : parseInteger(options.hours);
      await audited(options, 'tenant.approve-shred', name, { tenant: name, custodian: options.custodian }, () =>
        withRepository(options, async (repo) => {
          const bytes = createShredApproval({ repositoryId: repo.descriptor.repositoryId, tenant: name, custodian: options.custodian, privateKeyPem, publicKeyPem, ...(hours !== undefined ? { hours } : {}) });
          await writeFile(options.output, bytes, { mode: 0o600, flag: 'wx' });
        }),
      );
      if (!options.json) process.stdout.write(`approval of ${options.custodian} to shred tenant ${name} written to ${options.output}\n`);
    });

  tenant
    .command('shred')
    .description("crypto-shred a tenant: destroy its keys and wrapped data keys (two custodians' approvals), then prove nothing opens its backups")
    .argument('<tenant>', 'tenant name')
    .requiredOption('--confirm <tenant>', 'the tenant name again: this cannot be undone')
    .requiredOption('--approval <file>', 'a custodian approval from `tenant approve-shred` (two distinct custodians)', collect, [])
    .action(async (name: string, _opts: object, command: Command) => {
      const options = optionsOf<{ confirm: string; approval: string[] }>(command);
      const approvals: { name: string; bytes: Buffer }[] = [];
      for (const file of options.approval) approvals.push({ name: file, bytes: Buffer.from(await readText(file, 'approval')) });
      const report = await audited(
        options,
        'tenant.shred',
        name,
        { tenant: name, approvals: approvals.length },
        () =>
          withRepository(options, async (repo) => {
            // Checked inside the audited operation: a refused attempt is on record too.
            if (options.confirm !== name) throw new UsageError(`--confirm must repeat the tenant name '${name}': shredding cannot be undone`);
            const keys = KeyService.of(repo);
            try {
              return await keys.shredTenant(name, approvals);
            } finally {
              await keys.close();
            }
          }),
        (r) => ({ approvedBy: r.approvedBy, destroyedKeys: [...r.destroyedKeys, ...r.alreadyGone], backups: r.backups.length, proven: r.proof.length + r.keyProof.length }),
      );
      if (options.json) return printJson(report);
      process.stdout.write(`tenant ${name} shredded (approved by ${report.approvedBy.join(' and ')}); keys destroyed: ${[...report.destroyedKeys, ...report.alreadyGone].join(', ')}\n`);
      for (const p of report.proof) process.stdout.write(`  ${p.backupId}: unwrap of ${p.wraps} wrap(s) fails: ${p.error}\n`);
      for (const p of report.keyProof) process.stdout.write(`  key ${p.kekId}: ${p.error}\n`);
      process.stdout.write(`${report.backups.length} backup(s) can no longer be decrypted anywhere (replicas and locked copies included)${report.keyringsKept ? `; ${report.keyringsKept} keyring object(s) kept by object lock, useless without their keys` : ''}\n`);
      if (report.destroyedKeys.some((k) => k.startsWith('aws-kms:'))) process.stderr.write('tresor: warning: AWS KMS keys are disabled now and deleted after the 7-day waiting period KMS imposes\n');
    });
}
