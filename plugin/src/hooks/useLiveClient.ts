import { useEffect, useMemo, useState } from 'react';

import { deriveLiveUrl, LiveClient, type LiveState } from '../api/live';
import type { AnyDataMessage, Channel } from '../api/types';
import { useAppSettings } from './AppSettings';

/** useLiveUrl is the hub URL from the app settings: `liveUrl`, else derived from `exporterUrl`. */
export function useLiveUrl(): string {
  const { liveUrl, exporterUrl } = useAppSettings();
  return liveUrl && liveUrl.trim() ? liveUrl.trim() : deriveLiveUrl(exporterUrl);
}

/**
 * useLiveClient keeps a hub connection open while the component is mounted, calls `onMessage` for each data
 * message (keep it stable: wrap it in useCallback) and returns the live/stale state.
 */
export function useLiveClient(channels: Channel[], onMessage: (msg: AnyDataMessage) => void): LiveState {
  const url = useLiveUrl();
  const channelKey = channels.join(',');
  const [state, setState] = useState<LiveState>('connecting');
  const client = useMemo(
    () => new LiveClient({ url, channels: channelKey.split(',') as Channel[] }),
    [url, channelKey]
  );

  useEffect(() => {
    const offState = client.onState(setState);
    const offMessage = client.onMessage(onMessage);
    client.start();
    return () => {
      offState();
      offMessage();
      client.stop();
    };
  }, [client, onMessage]);

  return state;
}
