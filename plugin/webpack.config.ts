/**
 * Extends the scaffold's webpack config (.config/ stays untouched): the scaffold copies only the root
 * plugin's logos, so the nested panels' plugin.json files and logos are copied here.
 */
import CopyWebpackPlugin from 'copy-webpack-plugin';
import type { Configuration } from 'webpack';
import { merge } from 'webpack-merge';

import grafanaConfig, { type Env } from './.config/webpack/webpack.config';

const config = async (env: Env): Promise<Configuration> => {
  const baseConfig = await grafanaConfig(env);
  return merge(baseConfig, {
    plugins: [
      new CopyWebpackPlugin({
        patterns: [{ from: 'panels/*/img/*', to: '.', noErrorOnMissing: true }],
      }),
    ],
  });
};

export default config;
