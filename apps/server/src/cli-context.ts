/** What the CLI reads from its surroundings; injected so that the mapping stays testable. */
export interface CliContext {
  /** Environment variables (`process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** The user's home directory, for `~` and the default data directory. */
  homedir: string;
  /** Whether stdout is a terminal; picks the default log format. */
  stdoutIsTTY: boolean;
  /** Reads a text file (the PEM files of `--tls-cert`/`--tls-key`); throws when it cannot. */
  readTextFile(path: string): string;
  /** Whether a directory exists at `path`. */
  isDirectory(path: string): boolean;
  /** The built inbox viewer to serve when `--web-root` is not given; undefined = none. */
  defaultWebRoot: string | undefined;
}
