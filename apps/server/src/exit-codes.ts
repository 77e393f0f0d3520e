/** Exit status of a clean run: help, version, a healthy check, a graceful shutdown. */
export const EXIT_OK = 0;
/** Exit status when the server cannot start or its shutdown is forced, or a health check fails. */
export const EXIT_FAILURE = 1;
/** Exit status for invalid configuration (flags, environment variables, files they name). */
export const EXIT_INVALID_CONFIG = 2;
