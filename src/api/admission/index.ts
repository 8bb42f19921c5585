// Admission plugins run after authorization, before a write: import them from here.
export * from './chain.ts';
