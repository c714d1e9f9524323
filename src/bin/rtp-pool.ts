#!/usr/bin/env node
// The `rtp-pool` command: the signaling service. Arguments are handled before the service's
// modules load, so `--help` and `--version` answer at once and never start anything.
import { handleArgs } from '../common/cli';
import { loadAppConfig } from '../config/app.config';

if (
  handleArgs({
    name: 'rtp-pool',
    summary: 'the signaling service (media-node registry, selection, failover, Call-ID bindings over HTTP).',
    load: loadAppConfig,
    notes: ['Docs: https://github.com/rtp-pool/rtp-pool#readme (README and docs/ ship in the package too).'],
  })
) {
  require('../main');
}
