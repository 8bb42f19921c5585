export type { CheckOptions, CheckResult, CheckStats, IllegalPartition } from './checker.ts';
export { checkOperations } from './checker.ts';
export type { KvInput, KvOperation, KvOutput, KvState } from './kv.ts';
export { kvModel } from './kv.ts';
export type { Model, Operation, Partition, StepResult } from './model.ts';
export { isOpen } from './model.ts';
export { HistoryRecorder } from './recorder.ts';
export { renderHistory, renderIllegal } from './render.ts';
