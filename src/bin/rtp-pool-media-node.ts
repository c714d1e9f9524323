#!/usr/bin/env node
// The `rtp-pool-media-node` command: the reference media node. Arguments are handled before
// its modules load, so `--help` and `--version` answer at once and never bind a port.
import { handleArgs } from '../common/cli';
import { loadMediaNodeConfig } from '../media-node/media-node.config';

if (
  handleArgs({
    name: 'rtp-pool-media-node',
    summary: 'the reference media node (the leg API of docs/CONTRACT.md, RTP relayed over UDP).',
    load: loadMediaNodeConfig,
    notes: ['Docs: https://github.com/rtp-pool/rtp-pool/blob/main/docs/media-node.md (docs/media-node.md in the package).'],
  })
) {
  require('../media-node/main');
}
