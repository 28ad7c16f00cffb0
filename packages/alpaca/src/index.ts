export type { AlpacaFeedName } from './urls.js';
export { streamUrl } from './urls.js';
