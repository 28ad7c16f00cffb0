import { feedBuild } from '@feed/tsup-config';

export default feedBuild({ entry: ['src/index.ts', 'src/testing.ts', 'src/worker-entry.ts'] });
