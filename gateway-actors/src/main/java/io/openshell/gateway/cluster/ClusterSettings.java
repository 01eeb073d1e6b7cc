package io.openshell.gateway.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.openshell.gateway.persistence.DatabaseUrl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code openshell.gateway.cluster}: where this node's cluster (artery) port listens and which seed
 * nodes it joins. No seeds means a single node that joins itself; the sharded code path is the same.
 */
public record ClusterSettings(String host, int port, List<Seed> seeds, Duration joinTimeout, Duration drainTimeout) {

  /** One seed node's cluster address. */
  public record Seed(String host, int port) {
    String address(String systemName) {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return "pekko://" + systemName + "@" + h + ":" + port;
    }
  }

  public static ClusterSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("cluster");
    return new ClusterSettings(c.getString("host"), c.getInt("port"), parseSeeds(c.getString("seeds")),
        c.getDuration("join-timeout"), c.getDuration("drain-timeout"));
  }

  /** {@code host:port[,host:port…]}; empty = no cluster. */
  public static List<Seed> parseSeeds(String value) {
    List<Seed> seeds = new ArrayList<>();
    if (value == null || value.isBlank()) return seeds;
    for (String part : value.split(",")) {
      String seed = part.trim();
      if (seed.isEmpty()) continue;
      int colon = seed.lastIndexOf(':');
      String host = colon > 0 ? seed.substring(0, colon) : "";
      if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
      int port;
      try {
        port = colon > 0 ? Integer.parseInt(seed.substring(colon + 1)) : -1;
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (host.isEmpty() || port < 1 || port > 65535) {
        throw new IllegalArgumentException("invalid --cluster-seed '" + seed
            + "': expected host:port of a seed node's --cluster-port, e.g. 127.0.0.1:25520");
      }
      seeds.add(new Seed(host, port));
    }
    return List.copyOf(seeds);
  }

  public boolean clustered() {
    return !seeds.isEmpty();
  }

  /**
   * A cluster shares one journal; a SQLite file belongs to one node, so several nodes on it would
   * each see a different (or a corrupted) history.
   */
  public void requireSharedDatabase(DatabaseUrl db) {
    if (clustered() && db.isSqlite()) {
      throw new IllegalArgumentException("a clustered gateway (--cluster-seed) needs a shared PostgreSQL database:"
          + " pass --db-url postgresql://user:password@host:5432/db (SQLite is one node's file and cannot be shared)");
    }
  }

  /** The artery and seed-node settings for an actor system named {@code systemName}. */
  public Config pekkoConfig(String systemName) {
    Config config = ConfigFactory.empty()
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
        // The drain (open requests and tunnels) runs in this phase: the phase must outlast it, or a
        // drain-timeout above the phase's own timeout would be cut short.
        .withValue("pekko.coordinated-shutdown.phases.service-requests-done.timeout",
            ConfigValueFactory.fromAnyRef(drainTimeout.plusSeconds(5).toMillis() + "ms"));
    if (clustered()) {
      config = config.withValue("pekko.cluster.seed-nodes",
          ConfigValueFactory.fromIterable(seeds.stream().map(s -> s.address(systemName)).toList()));
    }
    return config;
  }
}
