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
  // Subscriptions go over a WebSocket to the same endpoint
  // (graphql-transport-ws); the headers editor's Authorization becomes
  // connection_init's payload, as the server reads it.
  const url = new URL(endpoint, document.baseURI);
  const subscriptionUrl = new URL(url);
  subscriptionUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const fetcher = createGraphiQLFetcher({
    url: url.href,
    subscriptionUrl: subscriptionUrl.href,
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
