// Plain-text tables for the terminal.

/** Formats a number with a fixed number of decimals; '–' for missing values. */
export function num(value, decimals = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Megabyte as in the performance contract: 10^6 bytes. */
export const MB = 1_000_000;

/**
 * Renders `{ title, columns: [{ key, label, align? }], rows: [{ [key]: string }] }`.
 * Numbers are right-aligned unless a column says otherwise.
 */
export function renderTable({ title, columns, rows, notes = [] }) {
  const widths = columns.map((column) => Math.max(column.label.length, ...rows.map((row) => String(row[column.key] ?? '').length)));
  const cell = (text, index) => {
    const value = String(text ?? '');
    return (columns[index].align ?? 'right') === 'left' ? value.padEnd(widths[index]) : value.padStart(widths[index]);
  };
  const line = (values) => `  ${values.map(cell).join('  ')}`.trimEnd();
  const out = [];
  if (title) out.push(title);
  out.push(line(columns.map((column) => column.label)));
  out.push(`  ${widths.map((width) => '-'.repeat(width)).join('  ')}`);
  for (const row of rows) out.push(line(columns.map((column) => row[column.key])));
  for (const note of notes) out.push(`  ${note}`);
  return out.join('\n');
}
