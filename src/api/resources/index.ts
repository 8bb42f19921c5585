// The pure resource layer of the API (no I/O): import it from here.
export * from './types.ts';
export * from './catalog.ts';
export * from './field-errors.ts';
export * from './names.ts';
export * from './selectors.ts';
export { parseQuantity } from './quantity.ts';
export { invalidStatus, nameRule, qualifiedKind, validateCreate, validateName, validateUpdate, MAX_ANNOTATIONS_BYTES } from './validation.ts';
export { applyDefaults, defaultPullPolicy } from './defaults.ts';
export { formatTime, generatedSuffix, podQosClass, prepareForCreate, prepareForUpdate, type CreateContext } from './strategy.ts';
export { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, listStrategy, patchPinsResourceVersion, PatchError, type JsonPatchOp, type ListStrategy } from './patch.ts';
export { columnsFor, humanDuration, toTable, type TableOptions } from './table.ts';
export { typeErrors, unknownFields } from './schema.ts';
export * from './status.ts';
export { applyScale, bindPod, toScale, validateScale, type Scale } from './subresources.ts';
export { DEFAULT_POD_GRACE_SECONDS, planDeletion, readyToRemove, type DeleteOptions, type DeletionPlan, type PropagationPolicy } from './deletion.ts';
export * from './core-v1.ts';
export * from './apps-v1.ts';
export * from './views.ts';
