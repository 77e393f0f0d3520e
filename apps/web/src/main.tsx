import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { adoptTokenFromLocation } from './api/client';
import { createMailStream } from './api/stream';
import { App } from './app';
import { StreamContext } from './state/stream-context';
import { applyStoredTheme } from './state/theme';
import './styles.css';

applyStoredTheme();
adoptTokenFromLocation();

const stream = createMailStream();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');

createRoot(root).render(
  <StrictMode>
    <StreamContext value={stream}>
      <App />
    </StreamContext>
  </StrictMode>,
);
