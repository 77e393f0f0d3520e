import { describe, expect, it } from 'vitest';
import { htmlToPlain, messageText } from './message-text.js';

describe('htmlToPlain', () => {
  it('decodes every character reference HTML knows, after the tags are gone', () => {
    expect(htmlToPlain('<p>Caf&eacute; &#x2603; &#8364;5 &amp; more: &lt;b&gt;bold&lt;/b&gt; &quot;q&quot; &#39;s&apos;</p>').trim()).toBe(
      'Café ☃ €5 & more: <b>bold</b> "q" \'s\'',
    );
  });

  it('reads a no-break space as a space, and leaves scripts, styles and the head out', () => {
    expect(messageText('', '<head><title>t</title></head><style>p{}</style><script>x()</script><p>a&nbsp;b</p>').trim()).toBe('a b');
  });
});
