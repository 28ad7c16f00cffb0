import { feedBuild } from '@feed/tsup-config';

export default feedBuild({ entry: ['src/index.ts', 'src/merge-worker.ts'] });
