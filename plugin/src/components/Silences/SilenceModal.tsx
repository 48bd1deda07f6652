import React, { useState } from 'react';
import { Button, Field, Modal, RadioButtonGroup, Stack, TextArea } from '@grafana/ui';

import type { AlertRow } from '../../hooks/alert-feed';
import { describeMatchers, SILENCE_DURATIONS, silenceForAlert } from '../../hooks/silences';
import type { PostSilence } from '../../api/types';
import { testIds } from '../testIds';

/** SilenceModalProps: the alert to silence, who silences it, and what to do with the silence. */
export interface SilenceModalProps {
  alert: AlertRow;
  createdBy: string;
  onSubmit: (silence: PostSilence) => Promise<boolean>;
  onDismiss: () => void;
}

/** SilenceModal asks how long to silence one alert (its rule on its server) and why, then creates the silence. */
export function SilenceModal({ alert, createdBy, onSubmit, onDismiss }: SilenceModalProps) {
  const [duration, setDuration] = useState<string>(SILENCE_DURATIONS[0]);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const silence = silenceForAlert(alert, duration, createdBy, comment.trim());
  const submit = async () => {
    setBusy(true);
    const ok = await onSubmit(silence);
    setBusy(false);
    if (ok) {
      onDismiss();
    }
  };
  return (
    <Modal title={`Silence ${alert.name}`} isOpen onDismiss={onDismiss}>
      <div data-testid={testIds.silences.modal}>
        <p>
          Notifications for <code>{describeMatchers(silence.matchers)}</code> stop while the silence lasts; the alert
          still shows here, marked silenced.
        </p>
        <Field label="Duration">
          <RadioButtonGroup
            options={SILENCE_DURATIONS.map((d) => ({ label: d, value: d }))}
            value={duration}
            onChange={setDuration}
          />
        </Field>
        <Field label="Comment" description="Why, for whoever looks next">
          <TextArea
            value={comment}
            rows={2}
            onChange={(e: React.ChangeEvent<HTMLTextAreaElement>) => setComment(e.target.value)}
          />
        </Field>
        <Stack direction="row" gap={1} justifyContent="flex-end">
          <Button variant="secondary" onClick={onDismiss}>
            Cancel
          </Button>
          <Button icon="bell-slash" onClick={submit} disabled={busy} data-testid={testIds.silences.submit}>
            {busy ? 'Silencing…' : `Silence for ${duration}`}
          </Button>
        </Stack>
      </div>
    </Modal>
  );
}
