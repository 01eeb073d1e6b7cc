package io.openshell.gateway.persistence;

import java.nio.file.Path;
import java.util.UUID;

/**
 * The gateway's {@code --db-url}: {@code sqlite:<path>}, {@code sqlite::memory:} (throwaway runs) or
 * {@code postgresql://host:port/db?user=…} (cluster). Parsed once into the JDBC settings the journal
 * uses.
 */
public record DatabaseUrl(Kind kind, String jdbcUrl, String user, String password) {

  public enum Kind { SQLITE_FILE, SQLITE_MEMORY, POSTGRES }

  public static DatabaseUrl parse(String url, Path stateDir) {
    String value = url == null ? "" : url.trim();
    if (value.isEmpty()) {
      return new DatabaseUrl(Kind.SQLITE_FILE, "jdbc:sqlite:" + stateDir.resolve("openshell.db"), "", "");
    }
    if (value.equals("sqlite::memory:") || value.equals("sqlite://:memory:")) {
      // A named shared-cache memory database lives as long as one connection to it is open; the
      // gateway keeps an anchor connection (SqliteSchema) so the pool may recycle its own freely.
      String name = "openshell-" + UUID.randomUUID();
      return new DatabaseUrl(Kind.SQLITE_MEMORY, "jdbc:sqlite:file:" + name + "?mode=memory&cache=shared", "", "");
    }
    if (value.startsWith("sqlite:")) {
      String path = value.substring("sqlite:".length());
      if (path.startsWith("//")) path = path.substring(2);
      if (path.isEmpty()) throw new IllegalArgumentException("--db-url sqlite: needs a file path, e.g. sqlite:/var/lib/openshell/openshell.db");
      return new DatabaseUrl(Kind.SQLITE_FILE, "jdbc:sqlite:" + Path.of(path).toAbsolutePath(), "", "");
    }
    if (value.startsWith("postgresql://") || value.startsWith("postgres://")) {
      java.net.URI uri = java.net.URI.create(value.replaceFirst("^postgres(ql)?://", "http://"));
      String user = "";
      String password = "";
      if (uri.getUserInfo() != null) {
        String[] parts = uri.getUserInfo().split(":", 2);
        user = parts[0];
        password = parts.length > 1 ? parts[1] : "";
      }
      int port = uri.getPort() > 0 ? uri.getPort() : 5432;
      String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
      return new DatabaseUrl(Kind.POSTGRES, "jdbc:postgresql://" + uri.getHost() + ":" + port + uri.getPath() + query, user, password);
    }
    throw new IllegalArgumentException(
        "unsupported --db-url '" + value + "': use sqlite:<path>, sqlite::memory: or postgresql://user:pass@host:port/db");
  }

  public boolean isSqlite() {
    return kind != Kind.POSTGRES;
  }

  /** Redacted form for logs. */
  public String describe() {
    return switch (kind) {
      case SQLITE_FILE -> "sqlite file " + jdbcUrl.substring("jdbc:sqlite:".length());
      case SQLITE_MEMORY -> "sqlite in-memory";
      case POSTGRES -> "postgresql " + jdbcUrl.replaceAll("\\?.*", "");
    };
  }
}
