// Encryption at rest of Secret data: import it from here.
export * from './secret-cipher.ts';
