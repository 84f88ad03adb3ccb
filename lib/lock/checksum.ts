/**
 * The checksum algorithms a lock records. The bytes are hashed by the
 * pipeline's `HashStream` while they flow (`digestObject`, transfers).
 *
 * @module
 */

/** The checksum algorithms a lock can record. */
export type ChecksumAlgorithm = "none" | "sha256";

/**
 * Parses a `--checksum` value.
 *
 * @param value `none` or `sha256`.
 * @returns The algorithm.
 * @throws {TypeError} For any other value.
 */
export function parseChecksumAlgorithm(value: string): ChecksumAlgorithm {
  if (value === "none" || value === "sha256") return value;
  throw new TypeError(`Invalid checksum "${value}": expected none or sha256`);
}
