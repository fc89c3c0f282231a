#!/usr/bin/env node
// Runs the bundled CLI (npm run build writes dist/mtls-edge.mjs; scripts/bundle.mjs says why one file).
import '../dist/mtls-edge.mjs';
