import { Inject, Injectable } from '@nestjs/common';
import type { Collection, Db } from 'mongodb';
import { ALL_TENANTS, tenantAllowed } from '@tresor/auth';
import type { Identity } from '@tresor/auth';
import type { Catalog } from '@tresor/catalog';
import { DEFAULT_TENANT } from '@tresor/contracts';
import type { JobRecord } from '@tresor/contracts';
import { ConflictError, ForbiddenError, NotFoundError, UsageError } from '@tresor/errors';
import { CATALOG, MONGO_DB } from '../core/tokens.js';

interface SourceTenantDoc {
  /** The source location (sources are identified by location in the API). */
  _id: string;
  tenant: string;
}

/**
 * Tenants of sources. The catalog knows no tenants, so the gateway keeps location -> tenant in
 * `source_tenants`; a source without an entry is in tenant `default`. A caller sees and acts only
 * on sources of tenants granted to them; anything else is reported as not found, so other
 * tenants' sources cannot be probed.
 */
@Injectable()
export class TenantsService {
  private readonly docs: Collection<SourceTenantDoc>;

  constructor(
    @Inject(MONGO_DB) db: Db,
    @Inject(CATALOG) private readonly catalog: Catalog,
  ) {
    this.docs = db.collection<SourceTenantDoc>('source_tenants');
  }

  /** Tenant of a source location. */
  async ofLocation(location: string): Promise<string> {
    return (await this.docs.findOne({ _id: location }))?.tenant ?? DEFAULT_TENANT;
  }

  /** Whether the caller may see everything (no per-source lookups needed). */
  seesAll(who: Identity): boolean {
    return who.tenants.includes(ALL_TENANTS);
  }

  /** Forbidden unless the caller sees every tenant: for actions over the whole repository, whose answer names every tenant's backups. */
  requireAllTenants(who: Identity, action: string): void {
    if (!this.seesAll(who)) throw new ForbiddenError(`${action} covers every tenant: ${who.name} may see only tenant${who.tenants.length === 1 ? '' : 's'} ${who.tenants.join(', ')}`);
  }

  /** Checks a backup request's tenant and binds a new source to it; a source never changes tenant. */
  async claim(who: Identity, location: string, requested: string | undefined): Promise<string> {
    const bound = await this.docs.findOne({ _id: location });
    const tenant = requested ?? bound?.tenant ?? DEFAULT_TENANT;
    if (!tenantAllowed(who.tenants, tenant)) throw new ForbiddenError(`${who.name} may not back up into tenant ${tenant}`);
    if (bound && bound.tenant !== tenant) throw new ConflictError(`source ${location} belongs to tenant ${bound.tenant}, not ${tenant}`);
    if (!bound && tenant !== DEFAULT_TENANT) await this.docs.updateOne({ _id: location }, { $setOnInsert: { tenant } }, { upsert: true });
    return tenant;
  }

  /** Keeps the items whose source location the caller may see (items without a source: only callers who see every tenant). */
  async visibleBySource<T>(who: Identity, items: readonly T[], locationOf: (item: T) => string | undefined): Promise<T[]> {
    if (this.seesAll(who)) return [...items];
    const tenants = await this.ofLocations(items.flatMap((i) => locationOf(i) ?? []));
    return items.filter((i) => {
      const location = locationOf(i);
      return location !== undefined && tenantAllowed(who.tenants, tenants.get(location)!);
    });
  }

  /** Tenants of many locations at once. */
  async ofLocations(locations: readonly string[]): Promise<Map<string, string>> {
    const docs = await this.docs.find({ _id: { $in: [...new Set(locations)] } }).toArray();
    const found = new Map(docs.map((d) => [d._id, d.tenant]));
    return new Map(locations.map((l) => [l, found.get(l) ?? DEFAULT_TENANT]));
  }

  /**
   * `latest` or a point in time without a source picks among every source's backups; for a caller
   * limited to some tenants that could be another tenant's backup, so they must name the source.
   */
  requireSourceForLatest(who: Identity, backup: string, at: unknown, source: string | undefined): void {
    if (this.seesAll(who) || source !== undefined || (backup !== 'latest' && at === undefined)) return;
    throw new UsageError(`give the source (--source PATH) with ${at === undefined ? 'latest' : 'at'}: ${who.name} may see only the sources of tenants ${who.tenants.join(', ')}`);
  }

  /** NotFound unless the caller may see the source at this location. */
  async assertLocation(who: Identity, location: string, what: string): Promise<void> {
    if (this.seesAll(who)) return;
    if (!tenantAllowed(who.tenants, await this.ofLocation(location))) throw new NotFoundError(`${what} not found`);
  }

  /** NotFound unless the caller may see the backup's source. */
  async assertBackup(who: Identity, backup: { id: string; sourceId: string }): Promise<void> {
    if (this.seesAll(who)) return;
    const source = await this.catalog.getSource(backup.sourceId);
    if (!source || !tenantAllowed(who.tenants, await this.ofLocation(source.location))) throw new NotFoundError(`backup ${backup.id} not found`);
  }

  /** Whether the caller may see a job (by the source its backup request or backup names). */
  async jobVisible(who: Identity, job: JobRecord): Promise<boolean> {
    if (this.seesAll(who)) return true;
    const p = job.params as { source?: { location?: string }; backupId?: string };
    let location = p.source?.location;
    if (!location && p.backupId) {
      const backup = await this.catalog.getBackup(p.backupId);
      location = backup ? (await this.catalog.getSource(backup.sourceId))?.location : undefined;
    }
    return location !== undefined && tenantAllowed(who.tenants, await this.ofLocation(location));
  }

  /** The jobs among these the caller may see. */
  async visibleJobs(who: Identity, jobs: JobRecord[]): Promise<JobRecord[]> {
    if (this.seesAll(who)) return jobs;
    const keep = await Promise.all(jobs.map((j) => this.jobVisible(who, j)));
    return jobs.filter((_, i) => keep[i]);
  }
}
