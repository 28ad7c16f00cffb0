import { feedConfig } from '@feed/eslint-config';

const config = feedConfig({ tsconfigRootDir: import.meta.dirname });
// The app is where printing belongs.
export default [...config, { rules: { 'no-console': 'off' } }];
