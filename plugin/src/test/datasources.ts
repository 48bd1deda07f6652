/**
 * A stand-in for Grafana's DataSourceSrv in jest: the instance settings of a few Prometheus-type sources, enough
 * for DataSourcePicker and for code that resolves a data source reference.
 */
import type { DataSourceInstanceSettings } from '@grafana/data';
import type { DataSourceRef } from '@grafana/schema';
import { setDataSourceSrv, type DataSourceSrv } from '@grafana/runtime';

/** FakeSource is one data source the fake lists. */
export interface FakeSource {
  uid: string;
  name: string;
  type?: string;
  isDefault?: boolean;
}

function settings(s: FakeSource): DataSourceInstanceSettings {
  return {
    id: 1,
    uid: s.uid,
    name: s.name,
    type: s.type ?? 'prometheus',
    isDefault: Boolean(s.isDefault),
    access: 'proxy',
    jsonData: {},
    readOnly: false,
    meta: {
      id: s.type ?? 'prometheus',
      name: 'Prometheus',
      type: 'datasource',
      metrics: true,
      module: '',
      baseUrl: '',
      info: {
        author: { name: '' },
        description: '',
        links: [],
        logos: { small: '', large: '' },
        screenshots: [],
        updated: '',
        version: '',
      },
    },
  } as unknown as DataSourceInstanceSettings;
}

/** installFakeDataSources makes getDataSourceSrv() list `sources`. */
export function installFakeDataSources(sources: FakeSource[]): void {
  const all = sources.map(settings);
  const find = (ref: DataSourceRef | string | null | undefined) => {
    const key = typeof ref === 'string' ? ref : ref?.uid;
    return all.find((s) => s.uid === key || s.name === key) ?? (key ? undefined : all.find((s) => s.isDefault));
  };
  setDataSourceSrv({
    getList: (filters: { pluginId?: string; type?: string } = {}) =>
      all.filter((s) => !(filters.pluginId ?? filters.type) || s.type === (filters.pluginId ?? filters.type)),
    getInstanceSettings: (ref: DataSourceRef | string | null | undefined) => find(ref),
    get: async (ref: DataSourceRef | string | null | undefined) => {
      const s = find(ref);
      if (!s) {
        throw new Error(`no data source ${JSON.stringify(ref)}`);
      }
      return { uid: s.uid, name: s.name, type: s.type, getRef: () => ({ uid: s.uid, type: s.type }) };
    },
    reload: async () => undefined,
    registerRuntimeDataSource: () => undefined,
  } as unknown as DataSourceSrv);
}
