import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, openStudio, test } from './fixtures';

test('a page of another origin on 127.0.0.1 cannot read the event stream or the API', async ({ page, host }) => {
  // The person has the studio open: the SameSite cookie is set, and another port is the same site.
  await openStudio(page, host);
  const evil = http
    .createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>another app</title>');
    })
    .listen(0, '127.0.0.1');
  await new Promise((r) => evil.once('listening', r));
  try {
    const other = await page.context().newPage();
    await other.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    const studio = new URL(host.origin);
    const result = await other.evaluate(async (port) => {
      const ws = await new Promise<string>((resolve) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/events`);
        socket.onopen = () => resolve('open');
        socket.onerror = () => resolve('refused');
      });
      const api = await fetch(`http://127.0.0.1:${port}/api/listUtterances`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'Content-Type': 'text/plain' },
        body: '{}',
      }).then(
        (r) => String(r.status),
        () => 'blocked',
      );
      return { ws, api };
    }, studio.port);
    expect(result.ws).toBe('refused');
    expect(['403', 'blocked']).toContain(result.api);
    await other.close();
    // The studio's own page is unaffected: it still gets its events.
    await expect(page.getByTestId('save-state')).toBeVisible();
  } finally {
    evil.close();
  }
});
