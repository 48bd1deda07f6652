import React from 'react';
import { css } from '@emotion/css';
import { UrlSyncContextProvider } from '@grafana/scenes';
import { useStyles2 } from '@grafana/ui';

import { testIds } from '../../components/testIds';
import { useAnalysisScene } from './Analysis.hooks';

/**
 * AnalysisCharts is the Analysis page's scene (fleet anomaly rate, open findings, most anomalous servers over
 * time), its time range and data source kept in the URL as on a dashboard.
 */
export function AnalysisCharts() {
  const styles = useStyles2(getStyles);
  const scene = useAnalysisScene();
  return (
    <UrlSyncContextProvider scene={scene} updateUrlOnInit createBrowserHistorySteps>
      <div className={styles.scene} data-testid={testIds.analysis.scene}>
        <scene.Component model={scene} />
      </div>
    </UrlSyncContextProvider>
  );
}

const getStyles = () => ({
  scene: css({ display: 'flex', flexDirection: 'column', minHeight: 320 }),
});
