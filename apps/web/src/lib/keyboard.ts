/** Whether a key press belongs to something else: a text field, a dialog, or a key combination. */
export function isForeignKeyPress(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return true;
  const target = event.target;
  if (target instanceof HTMLElement) {
    if (target.isContentEditable || target.closest('input, textarea, select, dialog[open]')) return true;
  }
  return document.querySelector('dialog[open]') !== null;
}
