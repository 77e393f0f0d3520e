import type { ProtectionLayerReader } from './protection-layer.js';

/** Reads one S/MIME layer. */
export const readSmimeLayer: ProtectionLayerReader = async () => null;
