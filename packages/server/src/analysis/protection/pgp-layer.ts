import type { ProtectionLayerReader } from './protection-layer.js';

/** Reads one OpenPGP layer (PGP/MIME or inline PGP); none is recognized yet. */
export const readPgpLayer: ProtectionLayerReader = async () => null;
