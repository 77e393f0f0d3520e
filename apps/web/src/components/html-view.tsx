import { useMemo, useState } from 'react';
import type { MessageDetail } from '@mailwright/core';
import { api } from '../api/client';
import { buildMailDocument } from '../lib/mail-html';
import { isDecryptedView } from './message-views';

/**
 * The iframe sandbox: no scripts, an opaque origin (no `allow-same-origin`), no forms;
 * links may open a new tab, which then leaves the sandbox.
 */
export const MAIL_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

/** The HTML body, rendered in a sandboxed iframe with remote content blocked until allowed. */
export function HtmlView({ message }: { message: MessageDetail }) {
  const [allowRemote, setAllowRemote] = useState(false);
  const document = useMemo(
    () =>
      buildMailDocument({
        html: message.html ?? '',
        attachments: message.attachments,
        attachmentUrl: (partId) => api.attachmentUrl(message.id, partId, isDecryptedView(message)),
        allowRemote,
        origin: location.origin,
      }),
    [message, allowRemote],
  );
  return (
    <div className="html-view">
      {document.remoteCount > 0 && (
        <div className="remote-bar" data-testid="remote-content-bar">
          {allowRemote ? (
            <span>Remote images are shown.</span>
          ) : (
            <>
              <span>
                {document.remoteCount} remote {document.remoteCount === 1 ? 'image is' : 'images are'} blocked, so opening this mail tells no one.
              </span>
              <button type="button" className="button" data-testid="load-remote" onClick={() => setAllowRemote(true)}>
                Load remote images
              </button>
            </>
          )}
        </div>
      )}
      <iframe
        key={allowRemote ? 'remote' : 'local'}
        className="mail-frame"
        title="HTML body"
        data-testid="html-frame"
        sandbox={MAIL_SANDBOX}
        referrerPolicy="no-referrer"
        srcDoc={document.srcdoc}
      />
    </div>
  );
}
