/** A flat value allowed in event context, event properties, item attributes and user traits. */
export type Scalar = string | number | boolean | null;

/** A flat record of scalars: what context, properties, attributes and traits are made of. */
export type ScalarRecord = Readonly<Record<string, Scalar>>;

/** Any JSON value; used for model metadata and stored settings. */
export type JsonValue = Scalar | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Epoch milliseconds. Every time inside Attune is one of these; ISO strings exist only at the edges. */
export type EpochMs = number;
