/** Generates an OpenPGP key pair for an address; not available in this build (`POST /keys/pgp` answers 501). */
export const generatePgpKey: unknown = null;
