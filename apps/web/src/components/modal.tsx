import { useEffect, useRef, type ReactNode } from 'react';

/** A native modal `<dialog>`: focus stays inside, Escape closes it. */
export function Modal({ open, onClose, label, children }: { open: boolean; onClose(): void; label: string; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className="modal" aria-label={label} onClose={onClose}>
      {open && children}
    </dialog>
  );
}

/** Asks before doing something that cannot be undone. */
export function ConfirmDialog(props: { open: boolean; title: string; message: ReactNode; confirmLabel: string; onConfirm(): void; onCancel(): void }) {
  return (
    <Modal open={props.open} onClose={props.onCancel} label={props.title}>
      <form
        method="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          props.onConfirm();
        }}
      >
        <h2>{props.title}</h2>
        <p>{props.message}</p>
        <div className="modal-actions">
          <button type="button" className="button" onClick={props.onCancel} autoFocus>
            Cancel
          </button>
          <button type="submit" className="button button-danger">
            {props.confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

const SHORTCUTS: [string[], string][] = [
  [['j', '↓'], 'Next message'],
  [['k', '↑'], 'Previous message'],
  [['Enter', 'o'], 'Open the selected message'],
  [['Delete', '#'], 'Delete the selected or open message'],
  [['Esc', 'u'], 'Back to the inbox'],
  [['/'], 'Search'],
  [['1–5'], 'Message tabs: HTML, Text, Source, Headers, Attachments'],
  [['d'], 'Delivery details of the open message'],
  [['?'], 'This list'],
];

/** The keyboard shortcuts. */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  return (
    <Modal open={open} onClose={onClose} label="Keyboard shortcuts">
      <h2>Keyboard shortcuts</h2>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={what}>
              <td>
                {keys.map((key) => (
                  <kbd key={key}>{key}</kbd>
                ))}
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="modal-actions">
        <button type="button" className="button" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </Modal>
  );
}
