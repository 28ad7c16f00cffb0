export { stalenessWeight, DEFAULT_STALENESS_TAU_MS } from './staleness.js';
