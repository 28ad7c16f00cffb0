import { feedConfig } from '@feed/eslint-config';

export default feedConfig({ tsconfigRootDir: import.meta.dirname, clock: 'strict' });
