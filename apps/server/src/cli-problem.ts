/** A problem with the configuration, attributed to the flag or variable it came from. */
export interface CliProblem {
  /** `--smtp-port`, `MAILWRIGHT_SMTP_PORT`, `--listener #2 (lab)`, … */
  source: string;
  message: string;
}

/** The problem list as printed on stderr, ending with a pointer to `--help`. */
export function formatProblems(problems: readonly CliProblem[], topic: 'serve' | 'healthcheck'): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const help = topic === 'healthcheck' ? 'mailwright healthcheck --help' : 'mailwright --help';
  return [
    `mailwright: invalid configuration (${count}):`,
    ...problems.map((problem) => `  - ${problem.source}: ${problem.message}`),
    `Run \`${help}\` to see every flag.`,
    '',
  ].join('\n');
}
