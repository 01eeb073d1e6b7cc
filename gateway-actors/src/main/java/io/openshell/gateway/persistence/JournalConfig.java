package io.openshell.gateway.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.HashMap;
import java.util.Map;

/** The pekko-persistence-jdbc shared database ("openshell") for a parsed {@link DatabaseUrl}. */
public final class JournalConfig {
  private JournalConfig() {}

  public static Config forDatabase(DatabaseUrl db) {
    Map<String, Object> values = new HashMap<>();
    String prefix = "pekko-persistence-jdbc.shared-databases.openshell.";
    values.put(prefix + "db.url", db.jdbcUrl());
    values.put(prefix + "db.user", db.user());
    values.put(prefix + "db.password", db.password());
    values.put(prefix + "db.connectionTimeout", 10000);
    if (db.isSqlite()) {
      values.put(prefix + "profile", "slick.jdbc.SQLiteProfile$");
      values.put(prefix + "db.driver", "org.sqlite.JDBC");
      // SQLite takes one writer at a time; one pooled connection avoids SQLITE_BUSY (STACK.md).
      values.put(prefix + "db.numThreads", 1);
      values.put(prefix + "db.maxConnections", 1);
      values.put(prefix + "db.minConnections", 1);
      values.put(prefix + "db.queueSize", 10000);
    } else {
      values.put(prefix + "profile", "slick.jdbc.PostgresProfile$");
      values.put(prefix + "db.driver", "org.postgresql.Driver");
      values.put(prefix + "db.numThreads", 8);
      values.put(prefix + "db.maxConnections", 8);
      values.put(prefix + "db.minConnections", 2);
      values.put(prefix + "db.queueSize", 10000);
    }
    Config config = ConfigFactory.empty();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      config = config.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    return config;
  }
}
