/**
 * A stand-in for Grafana's BackendSrv in jest: `fetch()` answers from a table of handlers keyed by method and
 * path below the plugin proxy, and records every request, so tests assert what the client sent.
 */
import { Observable } from 'rxjs';
import { setBackendSrv, type BackendSrv, type BackendSrvRequest, type FetchResponse } from '@grafana/runtime';

import { PROXY_BASE_URL } from '../constants';

/** Reply is what a handler returns: a body (status 200) or an error status with a body. */
export type Reply = { status?: number; body: unknown };
/** Handler answers one request. */
export type Handler = (req: BackendSrvRequest) => Reply;

/** FakeBackend records requests and answers them from `handlers` ("GET api/scenarios" → handler). */
export class FakeBackend {
  readonly requests: BackendSrvRequest[] = [];
  constructor(public handlers: Record<string, Handler>) {}

  /** install makes getBackendSrv() return this fake. */
  install(): this {
    const fetch = (req: BackendSrvRequest): Observable<FetchResponse<unknown>> =>
      new Observable((sub) => {
        this.requests.push(req);
        const path = req.url.startsWith(PROXY_BASE_URL + '/') ? req.url.slice(PROXY_BASE_URL.length + 1) : req.url;
        const key = `${req.method ?? 'GET'} ${path}`;
        const handler =
          this.handlers[key] ??
          Object.entries(this.handlers).find(([k]) => k.endsWith('*') && key.startsWith(k.slice(0, -1)))?.[1];
        const reply: Reply = handler ? handler(req) : { status: 404, body: { message: `no handler for ${key}` } };
        const status = reply.status ?? 200;
        if (status >= 400 || status === 0) {
          sub.error({ status, data: reply.body, statusText: '' });
          return;
        }
        sub.next({
          data: reply.body,
          status,
          ok: true,
          headers: new Headers(),
          redirected: false,
          statusText: 'OK',
          type: 'basic',
          url: req.url,
          config: req,
        });
        sub.complete();
      });
    setBackendSrv({ fetch } as unknown as BackendSrv);
    return this;
  }
}

/** promSuccess wraps data in the Prometheus API envelope. */
export function promSuccess(data: unknown): Reply {
  return { body: { status: 'success', data } };
}
