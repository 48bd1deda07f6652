import { FieldColorModeId, PanelPlugin } from '@grafana/data';

import { FleetStatusPanel } from './FleetStatusPanel';
import type { FleetStatusOptions } from './types';

/** plugin wires the Fleet status panel and its options; thresholds and colours use Grafana's standard field options. */
export const plugin = new PanelPlugin<FleetStatusOptions>(FleetStatusPanel)
  .useFieldConfig({
    standardOptions: {
      color: { defaultValue: { mode: FieldColorModeId.Thresholds } },
    },
  })
  .setPanelOptions((builder) =>
    builder
      .addTextInput({
        path: 'nameLabel',
        name: 'Name label',
        description: 'The series label shown as the cell name (empty: the series name)',
        defaultValue: 'server',
      })
      .addRadio({
        path: 'shape',
        name: 'Shape',
        defaultValue: 'honeycomb',
        settings: {
          options: [
            { value: 'honeycomb', label: 'Honeycomb' },
            { value: 'tiles', label: 'Tiles' },
          ],
        },
      })
      .addNumberInput({ path: 'cellSize', name: 'Cell size (px)', defaultValue: 80 })
      .addBooleanSwitch({ path: 'showValue', name: 'Show value', defaultValue: true })
      .addTextInput({
        path: 'linkTemplate',
        name: 'Link',
        description: 'Click-through URL; ${name}, ${value} and ${labels.<label>} are replaced',
        defaultValue: '/a/openmanager-fleet-app/server/${name}',
      })
  );
