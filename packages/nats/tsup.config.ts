import { feedBuild } from '@feed/tsup-config';

export default feedBuild();
