/**
 * Builds the browser harness (harness/index.tsx) into harness/build. Unlike the plugin build, @grafana/* are
 * bundled here, since no Grafana provides them. Production mode, so `npm run bench:ui` times optimised React.
 */
const path = require('path');
const webpack = require('webpack');

module.exports = {
  mode: 'production',
  context: __dirname,
  entry: { harness: './index.tsx' },
  output: { path: path.resolve(__dirname, 'build'), filename: '[name].js', publicPath: '/', clean: true },
  devtool: false,
  // Minifying 6 MB of @grafana/ui takes minutes on shared cores and changes nothing the tests or bench measure.
  optimization: { minimize: false },
  cache: { type: 'filesystem', cacheDirectory: path.resolve(__dirname, 'build-cache') },
  performance: { hints: false },
  resolve: {
    extensions: ['.js', '.jsx', '.ts', '.tsx', '.mjs'],
    modules: [path.resolve(__dirname, '../src'), 'node_modules'],
    fallback: { fs: false, path: false, os: false },
  },
  module: {
    rules: [
      {
        test: /\.[tj]sx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'swc-loader',
          options: {
            jsc: {
              parser: { syntax: 'typescript', tsx: true },
              transform: { react: { runtime: 'automatic' } },
              target: 'es2020',
            },
          },
        },
      },
      // @grafana/ui's .mjs files default-import CommonJS packages (react-custom-scrollbars-2).
      { test: /\.mjs$/, include: /node_modules/, type: 'javascript/auto' },
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(svg|png|woff2?)$/, type: 'asset/resource' },
    ],
  },
  plugins: [new webpack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify('production') })],
};
