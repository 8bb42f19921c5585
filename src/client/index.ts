// The Client interface and its two implementations: import them from here.
export * from './client.ts';
export { HttpClient, type HttpClientOptions } from './http.ts';
export { InProcessClient } from './in-process.ts';
export * from './kinds.ts';
export * from './well-known.ts';
