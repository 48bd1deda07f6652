/**
 * A browser BackendSrv for the harness: `fetch()` over window.fetch to the harness server, with Grafana's
 * response and error shapes (errors carry `status` and the parsed body in `data`).
 */
import { Observable } from 'rxjs';
import type { BackendSrvRequest, FetchResponse } from '@grafana/runtime';

async function body(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** browserBackendSrv is the subset of BackendSrv the app uses. */
export function browserBackendSrv() {
  return {
    fetch<T>(req: BackendSrvRequest): Observable<FetchResponse<T>> {
      return new Observable((sub) => {
        const url = new URL(`/${req.url.replace(/^\/+/, '')}`, window.location.origin);
        for (const [k, v] of Object.entries((req.params ?? {}) as Record<string, unknown>)) {
          url.searchParams.set(k, String(v));
        }
        const init: RequestInit = { method: req.method ?? 'GET', headers: { ...(req.headers ?? {}) } };
        if (typeof req.data === 'string') {
          // A pre-encoded body (a data source's form-encoded query) goes as it is, with the caller's headers.
          init.body = req.data;
        } else if (req.data !== undefined) {
          init.body = JSON.stringify(req.data);
          init.headers = { ...init.headers, 'Content-Type': 'application/json' };
        }
        window.fetch(url, init).then(
          async (res) => {
            const data = await body(res);
            if (!res.ok) {
              sub.error({ status: res.status, statusText: res.statusText, data });
              return;
            }
            sub.next({
              data: data as T,
              status: res.status,
              statusText: res.statusText,
              ok: true,
              headers: res.headers,
              redirected: res.redirected,
              type: res.type,
              url: res.url,
              config: req,
            });
            sub.complete();
          },
          (err: unknown) => sub.error({ status: 0, statusText: String(err), data: undefined })
        );
      });
    },
  };
}
