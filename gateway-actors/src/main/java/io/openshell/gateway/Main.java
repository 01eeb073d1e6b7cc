package io.openshell.gateway;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.openshell.gateway.compute.Drivers;
import io.openshell.gateway.persistence.DatabaseUrl;
import io.openshell.gateway.persistence.JournalConfig;
import io.openshell.gateway.persistence.JournalSchema;
import io.openshell.gateway.tls.GatewayTls;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine;

/** Builds config and the actor system, then hands over to {@link Gateway#init}. */
public final class Main {
  /** Every node of a cluster must use the same system name: it is part of the cluster addresses. */
  static final String SYSTEM_NAME = "openshell-gateway";

  private Main() {}

  public static void main(String[] args) {
    // CompletableFuture runs every async stage on a new thread when the JDK's common pool has parallelism 1
    // (as on 2 cores), and the CompletionStages Pekko's asks return (Scala's future converters) run even
    // thenApply as an async stage: a profile of relay opens showed about seven thread starts per open in the
    // gateway and one in the supervisor. Two pool threads instead, unless set explicitly.
    if (System.getProperty("java.util.concurrent.ForkJoinPool.common.parallelism") == null
        && Runtime.getRuntime().availableProcessors() <= 2) {
      System.setProperty("java.util.concurrent.ForkJoinPool.common.parallelism", "2");
    }
    GatewayFlags flags = new GatewayFlags();
    CommandLine commandLine = new CommandLine(flags);
    Config overrides;
    try {
      var parsed = commandLine.parseArgs(args);
      if (parsed.isUsageHelpRequested()) {
        commandLine.usage(System.out);
        return;
      }
      overrides = flags.toConfig();
    } catch (CommandLine.ParameterException | IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }

    Config base = overrides.withFallback(ConfigFactory.load());
    GatewaySettings settings = GatewaySettings.fromConfig(base);
    DatabaseUrl db;
    JournalSchema schema;
    GatewayTls tls;
    try {
      db = DatabaseUrl.parse(settings.dbUrl(), settings.stateDir());
      settings.cluster().requireSharedDatabase(db);
      // Bad TLS flags or unreadable files are reported before anything starts.
      tls = GatewayTls.resolve(settings.tls(), settings.stateDir(), Gateway.serverNames(settings));
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }
    try {
      schema = JournalSchema.apply(db);
    } catch (Exception e) {
      System.err.println("error: cannot open the gateway database: " + e.getMessage());
      System.exit(1);
      return;
    }
    Config clusterConfig = settings.cluster().pekkoConfig(SYSTEM_NAME);
    if (settings.cluster().clustered()) {
      // A node the cluster downed (split-brain resolver) or that left must not linger as a zombie
      // still serving its port: the JVM exits once coordinated shutdown is done.
      clusterConfig = clusterConfig.withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef(true));
    }
    Config config = overrides.withFallback(clusterConfig).withFallback(JournalConfig.forDatabase(db))
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), SYSTEM_NAME, config);
    CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseActorSystemTerminate(), "close-database", () -> {
      try {
        schema.close();
      } catch (Exception ignored) {
        // closing at exit; nothing left to protect
      }
      return java.util.concurrent.CompletableFuture.completedFuture(Done.getInstance());
    });

    system.log().info("gateway state dir {}, database {}", settings.stateDir(), db.describe());
    system.log().info("gateway TLS: {}", !tls.enabled() ? "off (plaintext, --disable-tls)"
        : (tls.localDir().map(dir -> "local CA in " + dir).orElse("operator certificates"))
            + (tls.userAuth() ? ", user client certificates required" : ", gateway auth disabled"));
    Gateway.init(system, settings, tls, schema, Drivers.fromSettings(config, settings, tls.sandboxCa()))
        .whenComplete((running, failure) -> {
          if (failure != null) {
            System.err.println("error: gateway failed to start: " + failure.getMessage());
            system.log().error("gateway failed to start", failure);
            system.terminate();
            Runtime.getRuntime().halt(1);
            return;
          }
          // The one line operators and the CLI wait for (the log goes to stdout).
          system.log().info("Server listening on {}:{} ({})", settings.host(), running.port(), tls.scheme());
        });
  }
}
