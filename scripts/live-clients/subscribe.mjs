// Subscribes to the facade with a real client, graphql-ws over WebSocket
// or graphql-sse over server-sent events, and prints each message it
// gets as one JSON line on stdout: {"next": result}, {"error": …} or
// {"complete": true}; a WebSocket closed is the error {"code": …,
// "reason": …}, other errors {"message": …}. It ends the subscription
// and exits when stdin closes. Driven by live_clients_test.go:
//
//   node subscribe.mjs ws|sse <http://host:port/query> <token> <query>
import { createClient as createWS } from 'graphql-ws';
import { createClient as createSSE } from 'graphql-sse';
import WebSocket from 'ws';

const [transport, url, token, query] = process.argv.slice(2);
if (!['ws', 'sse'].includes(transport) || !url || !token || !query) {
  console.error('usage: node subscribe.mjs ws|sse <http://host:port/query> <token> <query>');
  process.exit(2);
}

const print = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');
// A close event's fields are getters, which JSON.stringify leaves out.
const describe = (err) =>
  typeof err?.code === 'number' && 'reason' in err
    ? { code: err.code, reason: err.reason }
    : { message: err instanceof Error ? err.message : JSON.stringify(err) };
const authorization = `Bearer ${token}`;

const client =
  transport === 'ws'
    ? createWS({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: authorization },
        retryAttempts: 0,
      })
    : createSSE({ url, headers: { Authorization: authorization }, retryAttempts: 0 });

const stop = client.subscribe(
  { query },
  {
    next: (result) => print({ next: result }),
    error: (err) => {
      print({ error: describe(err) });
      process.exit(1);
    },
    complete: () => print({ complete: true }),
  },
);

process.stdin.resume();
process.stdin.on('end', async () => {
  stop();
  await client.dispose();
  process.exit(0);
});
