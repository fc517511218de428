import type { Codec } from '@tresor/archive';
export type CodecName = Codec;
