package io.openshell.it;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.Gateway;
import io.openshell.gateway.GatewaySettings;
import io.openshell.gateway.persistence.DatabaseUrl;
import io.openshell.gateway.persistence.JournalConfig;
import io.openshell.gateway.persistence.JournalSchema;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One clustered gateway node in the test's JVM: the real wiring ({@link Gateway#init}) with the config
 * Main builds for a cluster (minus exit-jvm: nodes share the JVM), on a shared PostgreSQL journal, with
 * a driver that runs nothing (the test plays or starts the supervisor). Several of these form a
 * cluster; for nodes as separate processes see {@link GatewayProcess}. Start them one after the other,
 * the first seed first: each applies the journal schema, and concurrent CREATE TABLE IF NOT EXISTS can
 * collide in PostgreSQL's catalog.
 */
record InJvmGatewayNode(ActorSystem<Void> system, Gateway.Running running, JournalSchema schema, AcceptingDriver driver) {
  /** Cluster members must share the actor system name. */
  static final String SYSTEM_NAME = "openshell-gateway";

  /**
   * Starts a node on {@code clusterPort} with the given seeds ("host:port,…"; the first seed forms the
   * cluster) and waits until it is Up and serving. {@code extraConfig} is HOCON under the root.
   */
  static InJvmGatewayNode start(String dbUrl, int clusterPort, String seeds, String name, String extraConfig) throws Exception {
    Path state = Files.createTempDirectory("openshell-node-" + name);
    Config overrides = ConfigFactory.parseString(extraConfig).withFallback(ConfigFactory.parseString(
        "openshell.gateway { port = 0\n disable-tls = true\n db-url = \"" + dbUrl + "\"\n state-dir = \"" + state + "\"\n cluster { seeds = \""
            + seeds + "\"\n port = " + clusterPort + " } }"));
    GatewaySettings settings = GatewaySettings.fromConfig(overrides.withFallback(ConfigFactory.load()));
    DatabaseUrl db = DatabaseUrl.parse(settings.dbUrl(), settings.stateDir());
    JournalSchema schema = JournalSchema.apply(db);
    Config config = overrides.withFallback(settings.cluster().pekkoConfig(SYSTEM_NAME))
        .withFallback(JournalConfig.forDatabase(db)).withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    AcceptingDriver driver = new AcceptingDriver();
    Gateway.Running running = Gateway.init(system, settings, schema, (s, endpoint) -> driver)
        .toCompletableFuture().get(180, TimeUnit.SECONDS);
    return new InJvmGatewayNode(system, running, schema, driver);
  }

  /**
   * The supervisor credential the gateway handed to the driver of whichever node hosts the sandbox's
   * entity (what a real driver would give the sandbox's supervisor); waits for the create to reach it.
   */
  static String credential(String sandboxId, InJvmGatewayNode... nodes) {
    String[] found = new String[1];
    Awaits.require(java.time.Duration.ofSeconds(60), "a driver given the credential of " + sandboxId, () -> {
      for (InJvmGatewayNode node : nodes) {
        String credential = node.driver.credentials.get(sandboxId);
        if (credential != null && !credential.isEmpty()) {
          found[0] = credential;
          return true;
        }
      }
      return false;
    });
    return found[0];
  }

  static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** Leaves (coordinated shutdown) if it has not already, then closes the database pool. */
  void close() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(90, TimeUnit.SECONDS);
    schema.close();
  }
}
