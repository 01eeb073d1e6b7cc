package io.openshell.supervisor;

import ch.qos.logback.classic.Level;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.supervisor.logs.LogShipper;
import io.openshell.supervisor.logs.LogShippingSettings;
import io.openshell.supervisor.session.GatewaySession;
import io.openshell.supervisor.sshd.SandboxSshDaemon;
import java.io.IOException;
import java.util.HashMap;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sandbox supervisor process. SIGTERM runs Pekko's coordinated shutdown (JVM shutdown hook),
 * which stops the session (EOF to the gateway) and closes the gRPC client.
 */
public final class Main {

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
    SupervisorArgs.Result parsed = SupervisorArgs.parse(args, System.getenv());
    if (parsed instanceof SupervisorArgs.Help help) {
      System.out.println(help.usage());
      return;
    }
    if (parsed instanceof SupervisorArgs.Invalid invalid) {
      System.err.println("openshell-supervisor: " + invalid.message());
      System.exit(invalid.exitCode());
      return;
    }
    SupervisorArgs.Parsed ok = (SupervisorArgs.Parsed) parsed;
    applyLogLevel(ok.logLevel());

    Config config;
    SupervisorSettings settings;
    try {
      config = config(ok);
      settings = SupervisorSettings.fromConfig(config);
    } catch (RuntimeException e) {
      System.err.println("openshell-supervisor: invalid settings: " + e.getMessage());
      System.exit(SupervisorArgs.USAGE_ERROR);
      return;
    }
    // The daemon listens before the session starts: a relay may arrive right after Hello.
    SandboxSshDaemon daemon = null;
    try {
      if (settings.ssh().enabled()) daemon = SandboxSshDaemon.start(settings.ssh());
    } catch (IOException e) {
      System.err.println("openshell-supervisor: " + e.getMessage());
      System.exit(1);
      return;
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "openshell-supervisor", config);
    if (daemon != null) {
      SandboxSshDaemon running = daemon;
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-ssh-daemon", () -> {
        running.close();
        return CompletableFuture.completedFuture(Done.getInstance());
      });
    }
    init(system, settings);
    if (config.getBoolean("openshell.supervisor.class-data-training")) {
      // A run whose only purpose is to load the classes a supervisor start loads, so the gateway can
      // archive them for later starts (-XX:ArchiveClassesAtExit writes the archive when the JVM exits).
      system.scheduler().scheduleOnce(config.getDuration("openshell.supervisor.class-data-training-time"),
          system::terminate, system.executionContext());
      system.getWhenTerminated().thenRun(() -> System.exit(0));
    }
  }

  /** Flags/env on top of openshell-supervisor.conf and reference.conf; the credential read from its file. */
  static Config config(SupervisorArgs.Parsed parsed) {
    Map<String, Object> overrides = new HashMap<>();
    parsed.overrides().forEach((key, value) -> overrides.put("openshell.supervisor." + key, value));
    String credentialFile = parsed.overrides().get("credential-file");
    if (credentialFile != null) {
      int maxBytes = (int) ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.load("openshell-supervisor"))
          .getMemorySize("openshell.supervisor.credential-max-bytes").toBytes();
      overrides.put("openshell.supervisor.credential", CredentialFile.read(credentialFile, System.in, maxBytes));
    }
    if (parsed.logLevel() != null) {
      overrides.put("pekko.loglevel", pekkoLevel(parsed.logLevel()));
    }
    // A named resource, not application.conf: this jar shares classpaths with others in tests.
    return ConfigFactory.parseMap(overrides).withFallback(ConfigFactory.load("openshell-supervisor")).resolve();
  }

  /** Starts the supervisor's components in {@code system}; returns the gateway session actor. */
  public static ActorRef<GatewaySession.Command> init(ActorSystem<?> system, SupervisorSettings settings) {
    Logger log = LoggerFactory.getLogger(Main.class);
    log.info(
        "openshell supervisor starting (sandbox_id={}, sandbox={}, endpoint={}, instance_id={}, ssh_socket={})",
        settings.sandboxId(),
        settings.sandboxName(),
        settings.endpoints(),
        settings.instanceId(),
        settings.sshSocketPath());
    GatewaySession.SessionListener listener = GatewaySession.SessionListener.NONE;
    LogShippingSettings shipping = LogShippingSettings.fromConfig(system.settings().config());
    if (shipping.enabled()) {
      ActorRef<LogShipper.Command> shipper = system.systemActorOf(
          LogShipper.create(shipping, settings.sandboxId(), settings.instanceId()), "log-shipper", Props.empty());
      listener = new GatewaySession.SessionListener() {
        @Override
        public void live(OpenShellClient client) {
          shipper.tell(new LogShipper.SessionLive(client));
        }

        @Override
        public void lost() {
          shipper.tell(LogShipper.SessionLost.INSTANCE);
        }
      };
    }
    return system.systemActorOf(
        Behaviors.supervise(GatewaySession.create(settings, listener))
            .onFailure(
                SupervisorStrategy.restartWithBackoff(
                    settings.session().reconnectInitial(), settings.session().reconnectMax(), 0.2)),
        "gateway-session",
        Props.empty());
  }

  private static void applyLogLevel(String level) {
    if (level == null) {
      return;
    }
    org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root instanceof ch.qos.logback.classic.Logger logback) {
      logback.setLevel(Level.toLevel(logbackLevel(level), Level.INFO));
    }
  }

  /** Accepts plain levels ("debug") and RUST_LOG-like "target=level" lists (takes the last level). */
  private static String logbackLevel(String level) {
    String last = level.substring(level.lastIndexOf(',') + 1);
    return last.substring(last.lastIndexOf('=') + 1).trim();
  }

  private static String pekkoLevel(String level) {
    String l = logbackLevel(level).toUpperCase();
    return switch (l) {
      case "TRACE", "DEBUG" -> "DEBUG";
      case "WARN", "WARNING" -> "WARNING";
      case "ERROR" -> "ERROR";
      case "OFF" -> "OFF";
      default -> "INFO";
    };
  }
}
