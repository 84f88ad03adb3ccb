/**
 * The S3 driver: `S3Store` over `@aws-sdk/client-s3`, how its failures map
 * onto the store errors, and the multipart sizing it reports.
 *
 * @module
 */
export { s3ClientOf, type S3Credentials, S3Store, type S3StoreOptions } from "./store.ts";
export { classify, type S3ErrorContext } from "./classify.ts";
