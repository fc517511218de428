import { Inject, Injectable } from '@nestjs/common';
import type { Identity } from '@tresor/auth';
import { NotFoundError } from '@tresor/errors';
import { RetentionPolicy } from '@tresor/repository';
import { BackupsService } from '../backups/backups.service.js';
import type { RetentionPreviewRequest, RetentionPreviewResponse } from './retention.schema.js';

/** Retention previews over the catalog, decided by the same code as `tresor forget` (RetentionPolicy.select). */
@Injectable()
export class RetentionService {
  constructor(@Inject(BackupsService) private readonly backups: BackupsService) {}

  /**
   * The verdict of `policy` on every backup of the source, newest first. Storage locks are not
   * read: a backup the rules drop but WORM still holds would be deferred by forget, shown here as removed.
   */
  async preview(who: Identity, req: RetentionPreviewRequest, now = new Date()): Promise<RetentionPreviewResponse> {
    if (!(await this.backups.listSources(who)).some((s) => s.location === req.source)) throw new NotFoundError(`source ${req.source} not found`);
    // Checked here too, so that a policy without rules or with a bad duration is refused under the request's name.
    RetentionPolicy.compile(req.policy, 'POST /v1/retention/preview: policy');
    const decisions = RetentionPolicy.select(await this.backups.listBackups(who, req.source), req.policy, now).reverse();
    const row = (d: (typeof decisions)[number]) => ({ id: d.backup.id, createdAt: d.backup.createdAt, level: d.backup.level, tags: [...d.backup.tags], bytesStored: d.backup.bytesStored, reasons: [...d.reasons] });
    return { source: req.source, keep: decisions.filter((d) => d.action === 'keep').map(row), remove: decisions.filter((d) => d.action !== 'keep').map(row) };
  }
}
