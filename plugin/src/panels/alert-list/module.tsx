import { PanelPlugin, type SelectFieldConfigSettings } from '@grafana/data';

import { SEVERITY_ORDER } from '../../hooks/alert-feed';
import { AlertListPanel } from './AlertListPanel';
import { DEFAULT_SERVER_LINK, type AlertListOptions } from './types';

/** MAX_ITEMS_DEFAULT fits a 8-row-high panel without scrolling. */
const MAX_ITEMS_DEFAULT = 10;

/** plugin wires the OpenManager alerts panel and its options; it runs no query (it reads the app's API). */
export const plugin = new PanelPlugin<AlertListOptions>(AlertListPanel).setPanelOptions((builder) =>
  builder
    // The builder types a multi-select's value as one option (TOption) although it stores TOption[]: the
    // option type is the element, and the stored array is what AlertListOptions.severities declares.
    .addMultiSelect<string, SelectFieldConfigSettings<string>>({
      path: 'severities',
      name: 'Severity',
      description: 'Show only these severities (none selected: all)',
      settings: {
        allowCustomValue: true,
        options: SEVERITY_ORDER.filter((s) => s !== 'none').map((s) => ({ value: s, label: s })),
      },
    })
    .addTextInput({
      path: 'servers',
      name: 'Servers',
      description:
        'Show only these servers: ids separated by commas, or a dashboard variable such as $server (empty: all)',
      defaultValue: '',
    })
    .addNumberInput({
      path: 'maxItems',
      name: 'Max items',
      description: 'The worst alerts first: severity, then firing before pending before resolved',
      defaultValue: MAX_ITEMS_DEFAULT,
      settings: { min: 1, integer: true },
    })
    .addBooleanSwitch({
      path: 'showResolved',
      name: 'Show resolved',
      description: "Also list the alerts resolved within the dashboard's time range (at most a day)",
      defaultValue: false,
    })
    .addTextInput({
      path: 'serverLink',
      name: 'Server link',
      description: 'Where a server name links; ${server} is replaced',
      defaultValue: DEFAULT_SERVER_LINK,
    })
);
