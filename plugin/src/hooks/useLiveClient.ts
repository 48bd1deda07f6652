import { useEffect, useMemo, useState } from 'react';

import { exporterClient } from '../api/client';
import {
  deriveLiveUrl,
  LiveClient,
  ticketedUrlSource,
  type LiveStatus,
  type LiveUrlSource,
  type MessageListener,
} from '../api/live';
import type { Channel } from '../api/types';
import { useAppSettings } from './AppSettings';

/** useLiveUrl is the hub URL from the app settings: `liveUrl`, else derived from `exporterUrl`. */
export function useLiveUrl(): string {
  const { liveUrl, exporterUrl } = useAppSettings();
  return liveUrl && liveUrl.trim() ? liveUrl.trim() : deriveLiveUrl(exporterUrl);
}

/** useLiveUrlSource resolves the hub URL for every connection attempt with a fresh ticket bought through the proxy. */
export function useLiveUrlSource(): LiveUrlSource {
  const url = useLiveUrl();
  return useMemo(() => ticketedUrlSource(url, () => exporterClient.hubTicket()), [url]);
}

/**
 * useLiveClient keeps a hub connection open while the component is mounted, calls `onMessage` for each data
 * message with the time it arrived (keep it stable: wrap it in useCallback) and returns the live status; pages poll through the proxy
 * whenever it is not `live`. `staleAfterMs` suits the channels' pace (the default fits the 5 s broadcast).
 */
export function useLiveClient(
  channels: Channel[],
  onMessage: MessageListener,
  { staleAfterMs }: { staleAfterMs?: number } = {}
): LiveStatus {
  const url = useLiveUrlSource();
  const channelKey = channels.join(',');
  const [status, setStatus] = useState<LiveStatus>({ state: 'connecting' });
  const client = useMemo(
    () =>
      new LiveClient({
        url,
        channels: channelKey.split(',') as Channel[],
        ...(staleAfterMs !== undefined ? { staleAfterMs } : {}),
      }),
    [url, channelKey, staleAfterMs]
  );

  useEffect(() => {
    const offState = client.onState((state) => setStatus({ state, reason: client.reason }));
    const offMessage = client.onMessage(onMessage);
    client.start();
    return () => {
      offState();
      offMessage();
      client.stop();
    };
  }, [client, onMessage]);

  return status;
}
