import { cryptoperiodStatus, DEFAULT_CRYPTOPERIOD_WARN_DAYS } from './cryptoperiod.js';
import type { CryptoperiodStatus } from './cryptoperiod.js';
import type { KekVersion, Slot } from './kek-versions.js';

/** What may be shown of a key slot: its provider type and id, and who holds recovery shares. Never a public key, wrap or check value. */
export interface PublicSlot {
  readonly type: Slot['type'];
  readonly kekId: string;
  readonly recovery?: { readonly threshold: number; readonly custodians: string[] };
}

/** A KEK version as the console and `keys list --json` show it: state, cryptoperiod and public slots. */
export interface KekVersionOverview extends CryptoperiodStatus {
  readonly slots: PublicSlot[];
}

/** The key providers in use: each slot type and the active versions that have a slot of it. */
export interface KeyProviderUse {
  readonly type: Slot['type'];
  readonly versions: number[];
}

/** The KEK versions of a repository, judged against their cryptoperiods; no key material. */
export interface KeysOverview {
  readonly warnDays: number;
  readonly providers: KeyProviderUse[];
  readonly versions: KekVersionOverview[];
}

/** The public part of a slot (drops public keys, passphrase check wraps and provider addresses). */
export function publicSlot(slot: Slot): PublicSlot {
  if (slot.type === 'x25519' && slot.recovery) return { type: slot.type, kekId: slot.kekId, recovery: { threshold: slot.recovery.threshold, custodians: slot.recovery.shares.map((s) => s.custodian) } };
  return { type: slot.type, kekId: slot.kekId };
}

/** Every KEK version with its cryptoperiod status at `now` and its public slots, and the providers the active ones use. */
export function keysOverview(versions: readonly KekVersion[], now: Date = new Date(), warnDays = DEFAULT_CRYPTOPERIOD_WARN_DAYS): KeysOverview {
  const providers = new Map<Slot['type'], number[]>();
  for (const v of versions) {
    if (v.state !== 'active') continue;
    for (const s of v.slots) {
      const list = providers.get(s.type) ?? [];
      if (!list.includes(v.version)) list.push(v.version);
      providers.set(s.type, list);
    }
  }
  return {
    warnDays,
    providers: [...providers].map(([type, used]) => ({ type, versions: used })),
    versions: versions.map((v) => ({ ...cryptoperiodStatus(v, now, warnDays), slots: v.slots.map(publicSlot) })),
  };
}
