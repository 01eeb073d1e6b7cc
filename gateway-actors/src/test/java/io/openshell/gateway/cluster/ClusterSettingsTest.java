package io.openshell.gateway.cluster;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.persistence.DatabaseUrl;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

  @Test
  void seedsParseIntoPekkoSeedNodeAddresses() {
    ClusterSettings settings = new ClusterSettings("127.0.0.1", 25521,
        ClusterSettings.parseSeeds("127.0.0.1:25521, 127.0.0.1:25522,[::1]:25523"), Duration.ofSeconds(60), Duration.ofSeconds(10));
    assertTrue(settings.clustered());
    var config = settings.pekkoConfig("openshell-gateway");
    assertEquals(List.of("pekko://openshell-gateway@127.0.0.1:25521", "pekko://openshell-gateway@127.0.0.1:25522",
        "pekko://openshell-gateway@[::1]:25523"), config.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(25521, config.getInt("pekko.remote.artery.canonical.port"));
  }

  @Test
  void theShutdownPhaseThatDrainsOutlastsTheDrainTimeout() {
    var config = new ClusterSettings("127.0.0.1", 0, List.of(), Duration.ofSeconds(60), Duration.ofSeconds(40))
        .pekkoConfig("openshell-gateway");
    assertEquals(Duration.ofSeconds(45), config.getDuration("pekko.coordinated-shutdown.phases.service-requests-done.timeout"));
  }

  @Test
  void noSeedsIsASingleNode() {
    assertFalse(new ClusterSettings("127.0.0.1", 0, ClusterSettings.parseSeeds(" "), Duration.ofSeconds(60), Duration.ofSeconds(10))
        .clustered());
  }

  @Test
  void aSeedWithoutAPortIsRefusedWithAnExample() {
    var e = assertThrows(IllegalArgumentException.class, () -> ClusterSettings.parseSeeds("127.0.0.1"));
    assertEquals("invalid --cluster-seed '127.0.0.1': expected host:port of a seed node's --cluster-port, e.g. 127.0.0.1:25520",
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ClusterSettings.parseSeeds("host:70000"));
  }

  @Test
  void aClusterOnSqliteIsRefusedNamingPostgresql() {
    ClusterSettings clustered = new ClusterSettings("127.0.0.1", 25521, ClusterSettings.parseSeeds("127.0.0.1:25521"),
        Duration.ofSeconds(60), Duration.ofSeconds(10));
    for (String url : List.of("", "sqlite::memory:", "sqlite:/tmp/x.db")) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> clustered.requireSharedDatabase(DatabaseUrl.parse(url, Path.of("/tmp/state"))));
      assertTrue(e.getMessage().startsWith("a clustered gateway (--cluster-seed) needs a shared PostgreSQL database:"
          + " pass --db-url postgresql://"), e.getMessage());
    }
    clustered.requireSharedDatabase(DatabaseUrl.parse("postgresql://u:p@127.0.0.1:5432/openshell", Path.of("/tmp/state")));
    new ClusterSettings("127.0.0.1", 0, List.of(), Duration.ofSeconds(60), Duration.ofSeconds(10))
        .requireSharedDatabase(DatabaseUrl.parse("sqlite::memory:", Path.of("/tmp/state")));
  }
}
