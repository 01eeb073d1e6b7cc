package io.openshell.gateway.persistence;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Creates the journal tables at gateway start when they are absent. The jdbc plugin ships no SQLite
 * schema; this is its H2 schema adapted (STACK.md): SQLite allows AUTOINCREMENT only on an
 * INTEGER PRIMARY KEY, so {@code ordering} is the key and (persistence_id, sequence_number) a unique
 * index. PostgreSQL uses the plugin's own schema.
 *
 * <p>For an in-memory database the connection used here stays open for the gateway's life: the
 * shared-cache memory database disappears when its last connection closes.
 */
public final class JournalSchema implements AutoCloseable {

  private static final List<String> SQLITE = List.of(
      """
      CREATE TABLE IF NOT EXISTS "event_journal" (
        "ordering" INTEGER PRIMARY KEY AUTOINCREMENT,
        "deleted" BOOLEAN DEFAULT 0 NOT NULL,
        "persistence_id" VARCHAR(255) NOT NULL,
        "sequence_number" BIGINT NOT NULL,
        "writer" TEXT NOT NULL,
        "write_timestamp" BIGINT NOT NULL,
        "adapter_manifest" TEXT NOT NULL,
        "event_payload" BLOB NOT NULL,
        "event_ser_id" INTEGER NOT NULL,
        "event_ser_manifest" TEXT NOT NULL,
        "meta_payload" BLOB,
        "meta_ser_id" INTEGER,
        "meta_ser_manifest" TEXT)""",
      """
      CREATE UNIQUE INDEX IF NOT EXISTS "event_journal_pid_seq_idx"
        ON "event_journal" ("persistence_id", "sequence_number")""",
      """
      CREATE TABLE IF NOT EXISTS "event_tag" (
        "event_id" BIGINT NOT NULL,
        "tag" TEXT NOT NULL,
        PRIMARY KEY ("event_id", "tag"),
        FOREIGN KEY ("event_id") REFERENCES "event_journal" ("ordering") ON DELETE CASCADE)""",
      """
      CREATE TABLE IF NOT EXISTS "snapshot" (
        "persistence_id" VARCHAR(255) NOT NULL,
        "sequence_number" BIGINT NOT NULL,
        "created" BIGINT NOT NULL,
        "snapshot_ser_id" INTEGER NOT NULL,
        "snapshot_ser_manifest" TEXT NOT NULL,
        "snapshot_payload" BLOB NOT NULL,
        "meta_ser_id" INTEGER,
        "meta_ser_manifest" TEXT,
        "meta_payload" BLOB,
        PRIMARY KEY ("persistence_id", "sequence_number"))""");

  private static final List<String> POSTGRES = List.of(
      """
      CREATE TABLE IF NOT EXISTS public.event_journal (
        ordering BIGSERIAL,
        persistence_id VARCHAR(255) NOT NULL,
        sequence_number BIGINT NOT NULL,
        deleted BOOLEAN DEFAULT FALSE NOT NULL,
        writer VARCHAR(255) NOT NULL,
        write_timestamp BIGINT,
        adapter_manifest VARCHAR(255),
        event_ser_id INTEGER NOT NULL,
        event_ser_manifest VARCHAR(255) NOT NULL,
        event_payload BYTEA NOT NULL,
        meta_ser_id INTEGER,
        meta_ser_manifest VARCHAR(255),
        meta_payload BYTEA,
        PRIMARY KEY (persistence_id, sequence_number))""",
      "CREATE UNIQUE INDEX IF NOT EXISTS event_journal_ordering_idx ON public.event_journal(ordering)",
      """
      CREATE TABLE IF NOT EXISTS public.event_tag (
        event_id BIGINT,
        tag VARCHAR(256),
        PRIMARY KEY (event_id, tag),
        CONSTRAINT fk_event_journal FOREIGN KEY (event_id)
          REFERENCES event_journal (ordering) ON DELETE CASCADE)""",
      """
      CREATE TABLE IF NOT EXISTS public.snapshot (
        persistence_id VARCHAR(255) NOT NULL,
        sequence_number BIGINT NOT NULL,
        created BIGINT NOT NULL,
        snapshot_ser_id INTEGER NOT NULL,
        snapshot_ser_manifest VARCHAR(255) NOT NULL,
        snapshot_payload BYTEA NOT NULL,
        meta_ser_id INTEGER,
        meta_ser_manifest VARCHAR(255),
        meta_payload BYTEA,
        PRIMARY KEY (persistence_id, sequence_number))""");

  private final DatabaseUrl db;
  private final Connection anchor;

  private JournalSchema(DatabaseUrl db, Connection anchor) {
    this.db = db;
    this.anchor = anchor;
  }

  /** Applies the schema; the returned handle must stay open while the gateway runs. */
  public static JournalSchema apply(DatabaseUrl db) throws SQLException {
    if (db.kind() == DatabaseUrl.Kind.SQLITE_FILE) {
      java.nio.file.Path file = java.nio.file.Path.of(db.jdbcUrl().substring("jdbc:sqlite:".length()));
      try {
        if (file.getParent() != null) java.nio.file.Files.createDirectories(file.getParent());
      } catch (java.io.IOException e) {
        throw new SQLException("cannot create the database directory " + file.getParent() + ": " + e.getMessage(), e);
      }
    }
    Connection connection = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
    try (Statement statement = connection.createStatement()) {
      if (db.kind() == DatabaseUrl.Kind.SQLITE_FILE) {
        // WAL lets the readiness probe and read queries proceed while the journal writes.
        statement.execute("PRAGMA journal_mode=WAL");
      }
      for (String ddl : db.isSqlite() ? SQLITE : POSTGRES) statement.execute(ddl);
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
    return new JournalSchema(db, connection);
  }

  /** True when the database answers a trivial query on the journal table (the /readyz probe). */
  public boolean answers() {
    try (Connection probe = DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
        Statement statement = probe.createStatement()) {
      statement.setQueryTimeout(2);
      statement.executeQuery(db.isSqlite()
          ? "SELECT 1 FROM \"event_journal\" LIMIT 1"
          : "SELECT 1 FROM public.event_journal LIMIT 1").close();
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  @Override
  public void close() throws SQLException {
    anchor.close();
  }
}
