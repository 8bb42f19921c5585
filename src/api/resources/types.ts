// The wire shapes of Kubernetes' meta/v1 that every layer of the API shares. Objects stay open
// records (`[field: string]: unknown`) because the server stores and returns what the client sent,
// including fields this code does not model; modules that need a typed view narrow on read.

/** A JSON value as decoded from a request body. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  /** The store revision of the last write, as a decimal string (opaque to clients). */
  resourceVersion?: string;
  /** Bumped by the server on every change of the desired state (spec), never by status writes. */
  generation?: number;
  /** RFC 3339 in UTC, seconds precision, like Kubernetes ("2026-11-23T07:21:49Z"). */
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  selfLink?: string;
}

export interface ListMeta {
  resourceVersion?: string;
  /** Opaque token for the next page of a `limit`ed list. */
  continue?: string;
  remainingItemCount?: number;
  selfLink?: string;
}

/** Any Kubernetes object: typed envelope, open body. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  /** `<Kind>List`, e.g. "PodList". */
  kind: string;
  metadata: ListMeta;
  items: T[];
}

/** meta/v1 PartialObjectMetadata: what a Table row carries when the full object is not asked for. */
export interface PartialObjectMetadata {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'PartialObjectMetadata';
  metadata: ObjectMeta;
}

export type StatusReason =
  | ''
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  // Bramble's own: a write of a deposed leader's control loops, refused by the term fence.
  | 'Fenced'
  | 'Gone'
  | 'Invalid'
  | 'ServerTimeout'
  | 'Timeout'
  | 'TooManyRequests'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Expired'
  | 'ServiceUnavailable';

/** One reason of a failure; for 422 Invalid, one per field error (reason = the FieldError type). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** meta/v1 Status: the body of every error answer and of some successful deletes. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: ListMeta;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'InternalError';

/**
 * One validation failure. `field` is the JSON path as Kubernetes prints it
 * ("spec.containers[0].image", "metadata.labels[app]"); `message` is the body Kubernetes prints
 * after the field ("Required value", "Invalid value: \"Foo\": a lowercase RFC 1123 ...").
 */
export interface FieldError {
  type: FieldErrorType;
  field: string;
  message: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** meta/v1 LabelSelector as found in specs (deployment.spec.selector, ...). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T = KubeObject | Status> {
  type: WatchEventType;
  object: T;
}

export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type: "string", "integer", "number", "boolean", "date". */
  type: string;
  format: string;
  description: string;
  /** 0 = always shown; 1 = shown only with `-o wide`. */
  priority: number;
}

export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface TableRow {
  cells: (string | number | boolean | null)[];
  conditions?: TableRowCondition[];
  object?: KubeObject | PartialObjectMetadata;
}

/** meta.k8s.io/v1 Table, what kubectl asks for with `Accept: application/json;as=Table;...`. */
export interface Table {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'Table';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}
