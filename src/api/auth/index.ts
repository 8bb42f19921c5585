// Authentication and authorization of API requests: import them from here.
export * from './user.ts';
export * from './authn.ts';
export * from './token-file.ts';
export * from './rbac.ts';
export * from './request-info.ts';
export * from './gate.ts';
export * from './rbac-cache.ts';
