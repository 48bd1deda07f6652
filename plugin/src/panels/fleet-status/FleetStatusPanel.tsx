import React, { useMemo } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2, PanelProps } from '@grafana/data';
import { useStyles2, useTheme2 } from '@grafana/ui';

import { testIds } from '../../components/testIds';
import { cellLink, toCells } from './cells';
import type { FleetStatusOptions } from './types';

/** CELL_GAP is the space between cells in px. */
const CELL_GAP = 4;
/** HEX_RATIO is a pointy-top hexagon's height / width (2 / √3). */
const HEX_RATIO = 2 / Math.sqrt(3);

/** FleetStatusPanel draws one coloured cell per series of any query, as tiles or a honeycomb. */
export function FleetStatusPanel(props: PanelProps<FleetStatusOptions>) {
  const { data, options, fieldConfig, width, height, replaceVariables, timeZone } = props;
  const theme = useTheme2();
  const styles = useStyles2(getStyles);
  const cells = useMemo(
    () => toCells({ data, fieldConfig, nameLabel: options.nameLabel, theme, replaceVariables, timeZone }),
    [data, fieldConfig, options.nameLabel, theme, replaceVariables, timeZone]
  );
  if (cells.length === 0) {
    return <div className={styles.empty}>No data: the query returned no numeric series</div>;
  }
  const size = Math.max(24, options.cellSize);
  const hex = options.shape === 'honeycomb';
  const cellHeight = hex ? size * HEX_RATIO : size * 0.75;
  const columns = Math.max(1, Math.floor((width - (hex ? size / 2 : 0) + CELL_GAP) / (size + CELL_GAP)));
  return (
    <div className={styles.container} style={{ width, height }} data-testid={testIds.fleetStatusPanel.container}>
      {cells.map((cell, i) => {
        const row = Math.floor(i / columns);
        const col = i % columns;
        const left = col * (size + CELL_GAP) + (hex && row % 2 === 1 ? (size + CELL_GAP) / 2 : 0);
        const top = row * (hex ? cellHeight * 0.75 + CELL_GAP : cellHeight + CELL_GAP);
        const href = cellLink(replaceVariables(options.linkTemplate), cell);
        const content = (
          <>
            <span className={styles.name}>{cell.name}</span>
            {options.showValue && <span className={styles.value}>{cell.text}</span>}
          </>
        );
        const style: React.CSSProperties = {
          left,
          top,
          width: size,
          height: cellHeight,
          background: cell.color,
          color: theme.colors.getContrastText(cell.color),
          clipPath: hex ? 'polygon(50% 0, 100% 25%, 100% 75%, 50% 100%, 0 75%, 0 25%)' : undefined,
        };
        return href ? (
          <a
            key={cell.key}
            href={href}
            className={styles.cell}
            style={style}
            title={`${cell.name}: ${cell.text}`}
            data-testid={testIds.fleetStatusPanel.cell}
          >
            {content}
          </a>
        ) : (
          <div
            key={cell.key}
            className={styles.cell}
            style={style}
            title={`${cell.name}: ${cell.text}`}
            data-testid={testIds.fleetStatusPanel.cell}
          >
            {content}
          </div>
        );
      })}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ position: 'relative', overflow: 'auto' }),
  cell: css({
    position: 'absolute',
    display: 'flex',
    flexDirection: 'column',
    alignItems: 'center',
    justifyContent: 'center',
    borderRadius: theme.shape.radius.default,
    textDecoration: 'none',
    overflow: 'hidden',
    fontSize: 11,
    '&:hover': { filter: 'brightness(1.15)' },
  }),
  name: css({ fontWeight: theme.typography.fontWeightMedium, whiteSpace: 'nowrap' }),
  value: css({ fontSize: 10, opacity: 0.9 }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(2) }),
});
