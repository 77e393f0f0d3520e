/** The Mailwright version, reported by `GET /api/v1/info`. */
export const VERSION = '0.1.0';
