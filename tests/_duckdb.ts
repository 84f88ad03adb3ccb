/** DuckDB as an independent reader of the Parquet files ferry writes. */
import { DuckDBInstance } from "@duckdb/node-api";

/**
 * Runs one SQL statement in a fresh in-memory DuckDB.
 *
 * @param sql The statement.
 * @returns Its rows as objects.
 */
export async function duck(sql: string): Promise<Record<string, unknown>[]> {
  const db = await DuckDBInstance.create(":memory:");
  const connection = await db.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjects();
  } finally {
    connection.closeSync();
  }
}
