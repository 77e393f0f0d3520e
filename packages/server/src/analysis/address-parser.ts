import addressparser, { type Address } from 'nodemailer-10/lib/addressparser';

// The one import of the `nodemailer-10` npm alias (package.json: "nodemailer-10": "npm:nodemailer@…").
// mailparser reads From, To, Cc and Reply-To with nodemailer's addressparser; the fast summary must
// read them the same way, so the alias is pinned to the exact nodemailer version mailparser depends
// on and moves with it: address-parser.test.ts fails when the two diverge.

/** A parsed address (or group) as nodemailer's addressparser returns it. */
export type ParsedAddress = Address;

/** nodemailer's addressparser, the very version mailparser parses address headers with. */
export const addressParser: typeof addressparser = addressparser;
