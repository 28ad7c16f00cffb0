export { leveragedPrice } from './leverage.js';
