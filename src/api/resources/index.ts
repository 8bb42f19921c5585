// The pure resource layer of the API (no I/O): import it from here.
export * from './types.ts';
export * from './catalog.ts';
