import React, { useState } from 'react';
import { css } from '@emotion/css';
import type { GrafanaTheme2 } from '@grafana/data';
import { Alert, Button, Checkbox, Field, IconButton, Input, RadioButtonGroup, Stack, TextArea, useStyles2 } from '@grafana/ui';

import type { CoverageRequest, ScenarioKind } from '../../api/types';
import { testIds } from '../../components/testIds';
import { SCENARIO_KINDS } from '../Scenarios/kinds';

/** RuleFile is one rule file the user brings: a file name ending in .yml/.yaml and its YAML text. */
export interface RuleFile {
  name: string;
  yaml: string;
}

type RuleSource = 'exporter' | 'custom';

/** readText reads a chosen file as UTF-8 text through FileReader (which, unlike Blob.text(), jsdom has too). */
function readText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(new Error(`cannot read ${file.name}: ${reader.error?.message ?? 'unknown error'}`));
    reader.readAsText(file);
  });
}

/**
 * toRequest turns the form's fields into a coverage request, leaving out what the user left empty (or at the
 * default, all kinds) so the exporter's own defaults apply.
 */
export function toRequest(fields: {
  source: RuleSource;
  files: RuleFile[];
  servers: string;
  repetitions: string;
  intensities: string;
  seed: string;
  kinds: ScenarioKind[];
}): CoverageRequest {
  const req: CoverageRequest = {};
  if (fields.source === 'custom') {
    req.rules = fields.files;
  }
  const int = (v: string) => (v.trim() === '' ? undefined : Number(v));
  const servers = int(fields.servers);
  const repetitions = int(fields.repetitions);
  const seed = int(fields.seed);
  if (servers !== undefined) {
    req.servers = servers;
  }
  if (repetitions !== undefined) {
    req.repetitions = repetitions;
  }
  if (seed !== undefined) {
    req.seed = seed;
  }
  const intensities = fields.intensities
    .split(/[\s,]+/)
    .filter((x) => x !== '')
    .map(Number);
  if (intensities.length > 0) {
    req.intensities = intensities;
  }
  if (fields.kinds.length !== SCENARIO_KINDS.length) {
    req.kinds = fields.kinds;
  }
  return req;
}

/** CoverageFormProps: what starting a job does, whether it may start now, and why not. */
export interface CoverageFormProps {
  onStart: (req: CoverageRequest) => void;
  disabled: boolean;
  disabledReason?: string;
}

/**
 * CoverageForm sets up a coverage job: the exporter's own rule files, or the user's (uploaded or pasted YAML),
 * the fleet size, repetitions, intensities, seed and which scenario kinds to run. Empty fields mean the
 * exporter's defaults (20 servers, 5 repetitions, intensities 0.4/0.7/1, seed 42).
 */
export function CoverageForm({ onStart, disabled, disabledReason }: CoverageFormProps) {
  const styles = useStyles2(getStyles);
  const [source, setSource] = useState<RuleSource>('exporter');
  const [files, setFiles] = useState<RuleFile[]>([]);
  const [pasteName, setPasteName] = useState('my_rules.yml');
  const [pasteYaml, setPasteYaml] = useState('');
  const [servers, setServers] = useState('');
  const [repetitions, setRepetitions] = useState('');
  const [intensities, setIntensities] = useState('');
  const [seed, setSeed] = useState('');
  const [kinds, setKinds] = useState<ScenarioKind[]>(SCENARIO_KINDS.map((k) => k.kind));

  const addFile = (f: RuleFile) => setFiles((fs) => [...fs.filter((x) => x.name !== f.name), f]);
  const [readError, setReadError] = useState<string | undefined>(undefined);
  const onUpload = async (list: FileList | null) => {
    try {
      for (const file of Array.from(list ?? [])) {
        addFile({ name: file.name, yaml: await readText(file) });
      }
      setReadError(undefined);
    } catch (err) {
      setReadError(err instanceof Error ? err.message : String(err));
    }
  };
  const toggleKind = (k: ScenarioKind) =>
    setKinds((ks) => (ks.includes(k) ? ks.filter((x) => x !== k) : SCENARIO_KINDS.map((x) => x.kind).filter((x) => x === k || ks.includes(x))));
  const missingFiles = source === 'custom' && files.length === 0;
  const cannotStart = disabled || missingFiles || kinds.length === 0;

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    // With a tooltip, Grafana's Button is only aria-disabled, so a click still submits: refuse here too.
    if (cannotStart) {
      return;
    }
    onStart(toRequest({ source, files, servers, repetitions, intensities, seed, kinds }));
  };

  return (
    <form onSubmit={onSubmit} className={styles.form} data-testid={testIds.coverage.form} aria-label="Run alert coverage">
      <Field label="Rules">
        <RadioButtonGroup
          options={[
            { label: "The exporter's rules", value: 'exporter' as const },
            { label: 'My rule files', value: 'custom' as const },
          ]}
          value={source}
          onChange={setSource}
        />
      </Field>
      {source === 'custom' && (
        <div data-testid={testIds.coverage.ruleFiles} className={styles.files}>
          <Field
            label="Upload rule files"
            description="Prometheus rule files (.yml/.yaml); the same name replaces a file."
          >
            <input
              type="file"
              multiple
              accept=".yml,.yaml"
              aria-label="Upload rule files"
              onChange={(e) => void onUpload(e.currentTarget.files)}
            />
          </Field>
          {readError && (
            <Alert severity="error" title="Cannot read a rule file">
              {readError}
            </Alert>
          )}
          <Field label="Or paste one">
            <Stack direction="column" gap={1}>
              <Input
                aria-label="Rule file name"
                value={pasteName}
                width={40}
                onChange={(e) => setPasteName(e.currentTarget.value)}
              />
              <TextArea
                aria-label="Rule file YAML"
                rows={8}
                placeholder={'groups:\n  - name: mine\n    rules:\n      - alert: HighCPU\n        expr: ...'}
                value={pasteYaml}
                onChange={(e) => setPasteYaml(e.currentTarget.value)}
              />
              <div>
                <Button
                  variant="secondary"
                  icon="plus"
                  disabled={pasteYaml.trim() === '' || pasteName.trim() === ''}
                  onClick={() => {
                    addFile({ name: pasteName.trim(), yaml: pasteYaml });
                    setPasteYaml('');
                  }}
                >
                  Add file
                </Button>
              </div>
            </Stack>
          </Field>
          <ul aria-label="Rule files" className={styles.fileList}>
            {files.map((f) => (
              <li key={f.name}>
                <code>{f.name}</code> ({f.yaml.split('\n').length} lines)
                <IconButton
                  name="trash-alt"
                  aria-label={`Remove ${f.name}`}
                  onClick={() => setFiles((fs) => fs.filter((x) => x.name !== f.name))}
                />
              </li>
            ))}
          </ul>
        </div>
      )}
      <Stack gap={2} wrap="wrap">
        <Field label="Servers" description="Fleet size; empty: 20">
          <Input type="number" min={1} max={200} width={12} aria-label="Servers" value={servers} onChange={(e) => setServers(e.currentTarget.value)} />
        </Field>
        <Field label="Repetitions" description="Per kind × intensity × role; empty: 5">
          <Input type="number" min={1} max={20} width={12} aria-label="Repetitions" value={repetitions} onChange={(e) => setRepetitions(e.currentTarget.value)} />
        </Field>
        <Field label="Intensities" description="0–1, comma-separated; empty: 0.4, 0.7, 1">
          <Input width={20} aria-label="Intensities" value={intensities} onChange={(e) => setIntensities(e.currentTarget.value)} />
        </Field>
        <Field label="Seed" description="Same seed, same report; empty: 42">
          <Input type="number" width={12} aria-label="Seed" value={seed} onChange={(e) => setSeed(e.currentTarget.value)} />
        </Field>
      </Stack>
      <Field label="Scenario kinds">
        <div className={styles.kinds} role="group" aria-label="Scenario kinds">
          {SCENARIO_KINDS.map((k) => (
            <Checkbox key={k.kind} label={k.kind} value={kinds.includes(k.kind)} onChange={() => toggleKind(k.kind)} />
          ))}
        </div>
      </Field>
      <Button type="submit" icon="play" disabled={cannotStart} tooltip={disabledReason}>
        Run coverage
      </Button>
    </form>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  form: css({
    padding: theme.spacing(2),
    background: theme.colors.background.secondary,
    borderRadius: theme.shape.radius.default,
  }),
  files: css({ marginBottom: theme.spacing(2) }),
  fileList: css({ listStyle: 'none', padding: 0, li: { display: 'flex', alignItems: 'center', gap: theme.spacing(1) } }),
  kinds: css({
    display: 'grid',
    gridTemplateColumns: 'repeat(auto-fill, minmax(180px, 1fr))',
    // Each checkbox keeps its own width, its label beside it, instead of stretching across the cell.
    justifyItems: 'start',
    gap: theme.spacing(0.5),
  }),
});
