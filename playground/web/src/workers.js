// Monaco (the editor inside GraphiQL) runs its language services in web
// workers. The build emits them as separate same-origin files under
// workers/, so no blob: URL and no CDN is needed.
export function setupWorkers(scriptURL) {
  const files = {
    json: 'workers/json.worker.js',
    graphql: 'workers/graphql.worker.js',
    editor: 'workers/editor.worker.js',
  };
  globalThis.MonacoEnvironment = {
    getWorker(_workerId, label) {
      const file = files[label] || files.editor;
      const url = new URL(file, scriptURL);
      url.search = scriptURL.search;
      return new Worker(url, { name: label });
    },
  };
}
