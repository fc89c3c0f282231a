import { startVerifyApp } from '../demo/verify-app.js';

/** `mtls-edge verify-app`: the demo upstream, until SIGINT or SIGTERM. */
export async function verifyAppCommand(address: string): Promise<number> {
  const [host = '127.0.0.1', port = '8000'] = address.split(/:(?=\d+$)/);
  const server = await startVerifyApp(host, Number(port));
  process.stdout.write(`verify app on http://${host}:${port}\n`);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => resolve()));
  });
  return 0;
}
