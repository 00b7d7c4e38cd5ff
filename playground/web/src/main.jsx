// Entry point of the offline GraphQL playground bundle.
//
// The Go handler renders a page with a single <div id="graphiql"> whose data
// attributes carry the configuration; there is no inline script, so the
// page works under a strict Content-Security-Policy (script-src 'self').
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

// GraphiQL's complete stylesheet: its own styles, Monaco's and the Roboto and
// Fira Code fonts. The build moves the inlined fonts and images into files,
// so the page needs neither a font CDN nor data: URLs.
import 'graphiql/style.css';
import './page.css';

import { setupWorkers } from './workers.js';

function main() {
  const root = document.getElementById('graphiql');
  if (!root) {
    throw new Error('playground: element #graphiql not found');
  }
  // The assets (workers included) live next to this script; reuse its
  // version query so that they are cached like the script itself.
  setupWorkers(new URL(import.meta.url));

  const endpoint = root.dataset.endpoint || '/query';
  const defaultHeaders = root.dataset.defaultHeaders || '';
  // The operation the editor opens on when this browser has none saved;
  // GraphiQL's welcome comment when the server gives none.
  const defaultQuery = root.dataset.defaultQuery || undefined;
  const fetcher = createGraphiQLFetcher({
    url: new URL(endpoint, document.baseURI).href,
  });

  root.textContent = '';
  createRoot(root).render(
    <GraphiQL
      fetcher={fetcher}
      defaultHeaders={defaultHeaders || undefined}
      defaultQuery={defaultQuery}
      defaultEditorToolsVisibility={defaultHeaders ? 'headers' : undefined}
    />,
  );
}

main();
