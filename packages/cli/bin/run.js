#!/usr/bin/env node
// The `agora` command. Commands live in packages/cli/src/commands (compiled to dist/commands).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
