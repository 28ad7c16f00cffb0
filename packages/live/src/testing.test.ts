import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { TextLog, startHttpServer, startTestServer } from './testing.js';

describe('@feed/live/testing: the scaffolding fake providers share', () => {
  it('startTestServer: HTTP and WebSocket on one loopback port; a held response ends on close', async () => {
    const s = await startTestServer({
      http: (req, res) => {
        if (req.url === '/hang') s.hold(res);
        else res.end('ok');
      },
      ws: (socket) => socket.send('hello'),
    });
    expect(s.httpUrl).toBe(`http://127.0.0.1:${s.port}`);
    expect(await (await fetch(`${s.httpUrl}/x`)).text()).toBe('ok');
    const hanging = fetch(`${s.httpUrl}/hang`).then(
      () => 'answered',
      () => 'ended',
    );
    const ws = new WebSocket(s.wsUrl('/any/path'));
    const first = await new Promise<string>((resolve) => ws.once('message', (d) => resolve((d as Buffer).toString())));
    expect(first).toBe('hello');
    await untilIo(() => s.held === 1);
    await s.close();
    expect(await hanging).toBe('ended');
    expect(s.held).toBe(0);
  });

  it('startTestServer without a ws handler refuses upgrades; startHttpServer records requests', async () => {
    const s = await startTestServer({ http: (_req, res) => res.end() });
    const ws = new WebSocket(s.wsUrl());
    const outcome = await new Promise<string>((resolve) => {
      ws.once('open', () => resolve('open'));
      ws.once('error', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
    await s.close();
    const h = await startHttpServer((_req, res) => res.end());
    await fetch(`${h.url}/a?b=1`, { headers: { 'x-probe': 'y' } });
    expect(h.requests.map((r) => [r.method, r.url, r.headers['x-probe']])).toEqual([['GET', '/a?b=1', 'y']]);
    await h.close();
  });
});

describe('TextLog', () => {
  it('keeps errors with their causes, stacks and details, and finds every piece of a secret in them', () => {
    const log = new TextLog();
    log.keep(new Error('outer', { cause: new Error('inner secret-ABCDEFGHIJ') }));
    log.keep({ type: 'retry', reason: 'clean' });
    expect(log.texts.length).toBe(7);
    expect(log.leaks(['nothing-here-123'])).toEqual([]);
    expect(log.leaks(['ABCDEFGHIJ'])[0]).toMatch(/^ABCDEFGHIJ in inner secret-/);
    expect(log.leaks(['zzzz'], ['x zzzz y'])).toEqual(['zzzz in x zzzz y']);
  });
});

/** Waits on I/O until `check` holds (the bound only turns a hang into a failure). */
function untilIo(check: () => boolean): Promise<void> {
  return vi.waitFor(() => expect(check()).toBe(true), { timeout: 20_000, interval: 2 });
}
