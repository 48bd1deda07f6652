import { useEffect, useMemo } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import type { EmbeddedScene, SceneVariable } from '@grafana/scenes';

import { exporterClient } from '../../api/client';
import type { PromVectorSample, ServerInfo } from '../../api/types';
import { DEFAULT_DATASOURCE_UID, serverPageUrl } from '../../constants';
import { useAppSettings } from '../../hooks/AppSettings';
import { useAsync } from '../../hooks/useAsync';
import { buildServerScene, SERVER_VAR } from './serverScene';

/** SERVICES_REFRESH_MS re-reads the services once per simulator tick (15 s). */
const SERVICES_REFRESH_MS = 15_000;

/**
 * useServerScene builds the scene for `server` with the app's data source, and follows its server variable:
 * choosing another server navigates to that server's page, keeping the time range and data source in the URL.
 */
export function useServerScene(server: string): EmbeddedScene {
  const { datasourceUid } = useAppSettings();
  const navigate = useNavigate();
  const location = useLocation();
  const scene = useMemo(
    () => buildServerScene({ server, datasourceUid: datasourceUid || DEFAULT_DATASOURCE_UID }),
    [server, datasourceUid]
  );
  const search = location.search;
  useEffect(() => {
    const variable = scene.state.$variables?.getByName(SERVER_VAR) as SceneVariable | undefined;
    const sub = variable?.subscribeToState((next, prev) => {
      const value = (next as { value?: unknown }).value;
      if (typeof value === 'string' && value && value !== (prev as { value?: unknown }).value && value !== server) {
        navigate(`${serverPageUrl(value)}${search}`);
      }
    });
    return () => sub?.unsubscribe();
  }, [scene, server, navigate, search]);
  return scene;
}

/** useServerInfo is the server's static description from the exporter (role, cores, memory, zone). */
export function useServerInfo(server: string): { info: ServerInfo | undefined; error: string | undefined } {
  const { data, error } = useAsync(
    () => exporterClient.servers().then((all) => all.find((s) => s.id === server)),
    [server]
  );
  return { info: data, error: error?.message };
}

/** useServices returns the server's services and whether each is up (instant query of service_up). */
export function useServices(server: string): { services: PromVectorSample[] | undefined; error: string | undefined } {
  const { data, error } = useAsync(
    () => exporterClient.query(`openmanager_service_up{server=${JSON.stringify(server)}}`),
    [server],
    SERVICES_REFRESH_MS
  );
  return { services: data, error: error?.message };
}
