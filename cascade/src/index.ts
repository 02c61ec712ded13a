export * from './sdp/index.js';
